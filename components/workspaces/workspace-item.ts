import type { WorkspaceView } from "@/lib/workspaces/workspace-view";

// What the browser holds for a workspace: the API's workspace view with its dates as ISO strings, the shape both the
// server-rendered page and the server-sent events deliver.
export type WorkspaceItem = Omit<WorkspaceView, "createdAt" | "startedAt" | "lastActivityAt" | "updatedAt"> & {
  createdAt: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  updatedAt: string;
};

export type PullProgress = { image: string; bytesDone: number; bytesTotal: number; layersDone: number; layersTotal: number };

export function toWorkspaceItem(view: WorkspaceView): WorkspaceItem {
  const iso = (d: Date | string | null) => (d === null ? null : d instanceof Date ? d.toISOString() : d);
  return {
    ...view,
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

/** Which actions a status allows; mirrors the transitions the API accepts, so buttons are never dead ends. */
export function allowedActions(status: string) {
  return {
    open: status === "running",
    stop: status === "running" || status === "starting",
    start: status === "stopped" || status === "error",
    reset: status === "running" || status === "stopped" || status === "error",
    remove: status === "running" || status === "stopped" || status === "error",
  };
}
