import type { WorkspaceView } from "@/lib/workspaces/workspace-view";
import { availableActions } from "@/lib/workspaces/lifecycle";

// What the browser holds for a workspace: the API's workspace view as it is (its dates are ISO strings), the shape
// the server-rendered page, the API's answers and the server-sent events all deliver.
export type WorkspaceItem = WorkspaceView;

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

/** The newer of two versions of the same workspace (events and responses can arrive out of order). */
export function newer(a: WorkspaceItem, b: WorkspaceItem): WorkspaceItem {
  return Date.parse(b.updatedAt) >= Date.parse(a.updatedAt) ? b : a;
}

/** Which buttons a status offers: read from the lifecycle table the API enforces, so buttons are never dead ends. */
export function allowedActions(status: string) {
  const a = availableActions(status);
  return { open: a.open, stop: a.stop, start: a.start, reset: a.reset, remove: a.delete };
}
