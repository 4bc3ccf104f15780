import type { WorkspaceView } from "@/lib/workspaces/workspace-view";
import { availableActions } from "@/lib/workspaces/lifecycle";

// What the browser holds for a workspace: the API's workspace view with its dates as ISO strings, the shape both the
// server-rendered page and the server-sent events deliver.
export type WorkspaceItem = Omit<WorkspaceView, "createdAt" | "startedAt" | "lastActivityAt" | "updatedAt" | "idle"> & {
  idle: { stopAt: string; reason: "idle" | "budget"; snoozes: number } | null;
  createdAt: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  updatedAt: string;
};

/** One GPU's live reading, as the telemetry sampler sends it (lib/gpus/telemetry.ts); null where nvidia-smi cannot say. */
export type GpuLive = {
  index: number;
  uuid: string;
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
  at: string;
};

export type PullProgress = { image: string; bytesDone: number; bytesTotal: number; layersDone: number; layersTotal: number };

export function toWorkspaceItem(view: WorkspaceView): WorkspaceItem {
  const iso = (d: Date | string | null) => (d === null ? null : d instanceof Date ? d.toISOString() : d);
  return {
    ...view,
    idle: view.idle && { ...view.idle, stopAt: iso(view.idle.stopAt)! },
    createdAt: iso(view.createdAt)!,
    startedAt: iso(view.startedAt),
    lastActivityAt: iso(view.lastActivityAt),
    updatedAt: iso(view.updatedAt)!,
  };
}

/** The newer of two versions of the same workspace (events and responses can arrive out of order). */
export function newer(a: WorkspaceItem, b: WorkspaceItem): WorkspaceItem {
  return Date.parse(b.updatedAt) >= Date.parse(a.updatedAt) ? b : a;
}

/** Which buttons a status offers: read from the lifecycle table the API enforces, so buttons are never dead ends. */
export function allowedActions(status: string) {
  const a = availableActions(status);
  return { open: a.open, stop: a.stop, start: a.start, reset: a.reset, remove: a.delete };
}
