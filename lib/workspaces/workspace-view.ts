import { db } from "../db/client";
import { Prisma } from "../db/generated/client";
import { baseUrlFor } from "../backend/base-url";
import { config } from "../config";
import type { WorkspaceStatus } from "./lifecycle";
import { workspaceOrigins } from "../proxy/workspace-origin";

export const workspaceInclude = {
  image: { select: { id: true, name: true, ref: true } },
  allocations: { include: { gpu: { select: { index: true, uuid: true } } } },
  user: { select: { id: true, email: true, name: true } },
} as const;

export type WorkspaceRow = NonNullable<Awaited<ReturnType<typeof loadWorkspace>>>;

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

/**
 * The views of one user's workspaces (or everyone's, for null), oldest first. One SQL read of the columns above,
 * then the owners, images and GPUs by id: Prisma's nested include and its row objects cost ~54 ms for 1000
 * workspaces, the same columns read raw ~10 ms (bench/scale.ts). The column names come from workspaceViewSelect.
 */
export async function loadWorkspaceViews(userId: string | null): Promise<WorkspaceView[]> {
  const columns = Prisma.raw(Object.keys(workspaceViewSelect).map((c) => `"${c}"`).join(", "));
  const where = userId === null ? Prisma.empty : Prisma.sql`WHERE "userId" = ${userId}`;
  const rows = await db().$queryRaw<Omit<WorkspaceViewRow, "image" | "user" | "allocations">[]>`SELECT ${columns} FROM "Workspace" ${where} ORDER BY "createdAt" ASC, "id" ASC`;
  if (!rows.length) return [];
  const [users, images, allocations] = await Promise.all([
    db().user.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.userId))] } }, select: workspaceInclude.user.select }),
    db().image.findMany({ where: { id: { in: [...new Set(rows.map((r) => r.imageId))] } }, select: workspaceInclude.image.select }),
    // GPUs are few and held only by running workspaces: read them all rather than a thousand ids.
    db().gpuAllocation.findMany({ select: { workspaceId: true, gpu: { select: { index: true, uuid: true } } } }),
  ]);
  const userOf = new Map(users.map((u) => [u.id, u]));
  const imageOf = new Map(images.map((i) => [i.id, i]));
  const gpusOf = new Map<string, { gpu: { index: number; uuid: string } }[]>();
  for (const a of allocations) gpusOf.set(a.workspaceId, [...(gpusOf.get(a.workspaceId) ?? []), { gpu: a.gpu }]);
  const urlOf = workspaceUrls();
  return rows.map((r) => toWorkspaceView({ ...r, user: userOf.get(r.userId)!, image: imageOf.get(r.imageId)!, allocations: gpusOf.get(r.id) ?? [] }, urlOf));
}

/** The part of a workspace row the view reads (a full WorkspaceRow is one too). */
export type WorkspaceViewRow = Pick<
  WorkspaceRow,
  "id" | "name" | "status" | "statusMessage" | "userId" | "imageId" | "imageRef" | "gpus" | "memoryGb" | "cpus" | "containerId" | "createdAt" | "startedAt" | "lastActivityAt" | "idleStopAt" | "idleStopReason" | "idleSnoozes" | "updatedAt" | "image" | "user"
> & { allocations: { gpu: { index: number; uuid: string } }[] };

export function loadWorkspace(id: string) {
  return db().workspace.findUnique({ where: { id }, include: workspaceInclude });
}

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
  createdAt: Date;
  startedAt: Date | null;
  lastActivityAt: Date | null;
  /** A warned stop (idle, or a used-up GPU-hour budget): when it falls due, and how often "Keep running" was used. */
  idle: { stopAt: Date; reason: "idle" | "budget"; snoozes: number } | null;
  updatedAt: Date;
};

/** What any API response may say about a workspace: never its Jupyter token. */
export function toWorkspaceView(w: WorkspaceViewRow, urlOf: (id: string) => string = workspaceUrl): WorkspaceView {
  return {
    id: w.id,
    name: w.name,
    status: w.status as WorkspaceStatus,
    statusMessage: w.statusMessage,
    userId: w.userId,
    owner: w.user,
    imageId: w.imageId,
    image: w.image,
    imageRef: w.imageRef,
    gpus: w.gpus,
    gpuDevices: w.allocations.map((a) => ({ index: a.gpu.index, uuid: a.gpu.uuid })).sort((a, b) => a.index - b.index),
    memoryGb: w.memoryGb,
    cpus: w.cpus,
    containerId: w.containerId,
    url: urlOf(w.id),
    createdAt: w.createdAt,
    startedAt: w.startedAt,
    lastActivityAt: w.lastActivityAt,
    idle: w.idleStopAt && w.status === "running" ? { stopAt: w.idleStopAt, reason: w.idleStopReason === "budget" ? "budget" : "idle", snoozes: w.idleSnoozes } : null,
    updatedAt: w.updatedAt,
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
