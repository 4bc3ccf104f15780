import { db } from "../db/client";
import { Prisma } from "../db/generated/client";
import { dateAsText, isoDate } from "../db/text-dates";
import { baseUrlFor } from "../backend/base-url";
import type { WorkspaceStatus } from "./lifecycle";
import { workspaceOrigins } from "../proxy/workspace-origin";
import type { WorkspaceRow } from "./workspace-rows";

/**
 * Exactly the columns a WorkspaceView shows, for lists: reading every column of a thousand rows costs Prisma several
 * times more than these (measured with bench/scale.ts's 1000 workspaces: 70 ms against 16 ms).
 */
export const workspaceViewSelect = {
  id: true,
  name: true,
  status: true,
  statusMessage: true,
  userId: true,
  imageId: true,
  imageRef: true,
  gpus: true,
  memoryGb: true,
  cpus: true,
  containerId: true,
  createdAt: true,
  startedAt: true,
  lastActivityAt: true,
  idleStopAt: true,
  idleStopReason: true,
  idleSnoozes: true,
  updatedAt: true,
} as const;

// Read as text and passed on as they are stored, with no Date made for them (lib/db/text-dates.ts).
const DATE_COLUMNS = new Set(["createdAt", "startedAt", "lastActivityAt", "idleStopAt", "updatedAt"]);
type TextDates<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };
type ListedRow = TextDates<Omit<WorkspaceViewRow, "image" | "user" | "allocations">>;

/**
 * The views of one user's workspaces (or everyone's, for null), oldest first. One SQL read of the columns above,
 * then the catalog, the GPUs held and, for everyone's, the owners: Prisma's nested include and its row objects cost
 * ~54 ms for 1000 workspaces, the same columns read raw ~10 ms (bench/scale.ts). The column names come from
 * workspaceViewSelect.
 */
export async function loadWorkspaceViews(owner: WorkspaceViewRow["user"] | null): Promise<WorkspaceView[]> {
  const columns = Prisma.join(Object.keys(workspaceViewSelect).map((c) => (DATE_COLUMNS.has(c) ? dateAsText(c) : Prisma.raw(`"${c}"`))));
  const where = owner === null ? Prisma.empty : Prisma.sql`WHERE "userId" = ${owner.id}`;
  const rows = await db().$queryRaw<ListedRow[]>`SELECT ${columns} FROM "Workspace" ${where} ORDER BY "Workspace"."createdAt" ASC, "Workspace"."id" ASC`;
  if (!rows.length) return [];
  // All owners rather than a list of their ids (binding 200 ids costs Prisma ~7 ms, reading all 200 users ~1 ms); the
  // catalog is small; GPUs are few and held only by running workspaces. Raw reads: ~0.3 ms each against ~1 ms.
  const [users, images, allocations] = await Promise.all([
    owner === null ? db().$queryRaw<WorkspaceViewRow["user"][]>`SELECT "id", "email", "name" FROM "User"` : [owner],
    db().$queryRaw<WorkspaceViewRow["image"][]>`SELECT "id", "name", "ref" FROM "Image"`,
    db().$queryRaw<{ workspaceId: string; index: number; uuid: string }[]>`
      SELECT a."workspaceId", g."index", g."uuid" FROM "GpuAllocation" a JOIN "Gpu" g ON g."uuid" = a."gpuUuid"
      ${owner === null ? Prisma.empty : Prisma.sql`WHERE a."userId" = ${owner.id}`}`,
  ]);
  const userOf = new Map(users.map((u) => [u.id, u]));
  const imageOf = new Map(images.map((i) => [i.id, i]));
  const gpusOf = new Map<string, { gpu: { index: number; uuid: string } }[]>();
  for (const a of allocations) {
    const gpu = { gpu: { index: Number(a.index), uuid: a.uuid } };
    const held = gpusOf.get(a.workspaceId);
    if (held) held.push(gpu);
    else gpusOf.set(a.workspaceId, [gpu]);
  }
  const urlOf = workspaceUrls();
  // Straight from each row to its view: a spread copy of a thousand rows first cost ~8 ms (bench/scale.ts).
  return rows.map((r) => viewOf(r, userOf.get(r.userId)!, imageOf.get(r.imageId)!, gpusOf.get(r.id) ?? [], urlOf));
}

/** The part of a workspace row the view reads (a full WorkspaceRow is one too). */
export type WorkspaceViewRow = Pick<
  WorkspaceRow,
  "id" | "name" | "status" | "statusMessage" | "userId" | "imageId" | "imageRef" | "gpus" | "memoryGb" | "cpus" | "containerId" | "createdAt" | "startedAt" | "lastActivityAt" | "idleStopAt" | "idleStopReason" | "idleSnoozes" | "updatedAt" | "image" | "user"
> & { allocations: { gpu: { index: number; uuid: string } }[] };

export type WorkspaceView = {
  id: string;
  name: string;
  status: WorkspaceStatus;
  statusMessage: string;
  userId: string;
  owner: { id: string; email: string; name: string };
  imageId: string;
  image: { id: string; name: string; ref: string };
  imageRef: string;
  gpus: number;
  gpuDevices: { index: number; uuid: string }[];
  memoryGb: number;
  cpus: number;
  containerId: string | null;
  url: string;
  // Dates as ISO 8601 strings: what the API sends and the browser holds, so the view is serialized as it is
  // (JSON.stringify leaves its fast path for every Date it meets: ~4 ms of a 1000-workspace list).
  createdAt: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  /** A warned stop (idle, or a used-up GPU-hour budget): when it falls due, and how often "Keep running" was used. */
  idle: { stopAt: string; reason: "idle" | "budget"; snoozes: number } | null;
  updatedAt: string;
};

/** What any API response may say about a workspace: never its Jupyter token. */
export function toWorkspaceView(w: WorkspaceViewRow, urlOf: (id: string) => string = workspaceUrl): WorkspaceView {
  return viewOf(w, w.user, w.image, w.allocations, urlOf);
}

function viewOf(
  w: Omit<WorkspaceViewRow, "user" | "image" | "allocations"> | ListedRow,
  owner: WorkspaceViewRow["user"],
  image: WorkspaceViewRow["image"],
  allocations: WorkspaceViewRow["allocations"],
  urlOf: (id: string) => string,
): WorkspaceView {
  return {
    id: w.id,
    name: w.name,
    status: w.status as WorkspaceStatus,
    statusMessage: w.statusMessage,
    userId: w.userId,
    owner,
    imageId: w.imageId,
    image,
    imageRef: w.imageRef,
    gpus: w.gpus,
    gpuDevices: allocations.length ? allocations.map((a) => ({ index: a.gpu.index, uuid: a.gpu.uuid })).sort((a, b) => a.index - b.index) : [],
    memoryGb: w.memoryGb,
    cpus: w.cpus,
    containerId: w.containerId,
    url: urlOf(w.id),
    createdAt: isoDate(w.createdAt),
    startedAt: isoDate(w.startedAt),
    lastActivityAt: isoDate(w.lastActivityAt),
    idle: w.idleStopAt && w.status === "running" ? { stopAt: isoDate(w.idleStopAt), reason: w.idleStopReason === "budget" ? "budget" : "idle", snoozes: w.idleSnoozes } : null,
    updatedAt: isoDate(w.updatedAt),
  };
}

export function workspaceUrl(id: string): string {
  return workspaceUrls()(id);
}

/** workspaceUrl for many workspaces: the configuration read once. */
export function workspaceUrls(): (id: string) => string {
  const originOf = workspaceOrigins();
  return (id) => `${originOf(id)}${baseUrlFor(id)}`;
}
