import { db } from "../db/client";
import { baseUrlFor } from "../backend/base-url";
import { config } from "../config";
import type { WorkspaceStatus } from "./lifecycle";
import { workspaceOrigin } from "../proxy/workspace-origin";

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
  image: workspaceInclude.image,
  allocations: { select: { gpu: { select: { index: true, uuid: true } } } },
  user: workspaceInclude.user,
} as const;

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
export function toWorkspaceView(w: WorkspaceViewRow): WorkspaceView {
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
    url: workspaceUrl(w.id),
    createdAt: w.createdAt,
    startedAt: w.startedAt,
    lastActivityAt: w.lastActivityAt,
    idle: w.idleStopAt && w.status === "running" ? { stopAt: w.idleStopAt, reason: w.idleStopReason === "budget" ? "budget" : "idle", snoozes: w.idleSnoozes } : null,
    updatedAt: w.updatedAt,
  };
}

export function workspaceUrl(id: string): string {
  return `${workspaceOrigin(id)}${baseUrlFor(id)}`;
}
