import { publish } from "../events/bus";
import { loadWorkspace, toWorkspaceView, type WorkspaceRow, type WorkspaceView } from "./workspace-view";

/** Reloads a workspace, tells its owner's open dashboards (SSE) unless `quiet`, and returns its view. */
export async function notifyWorkspace(id: string, opts: { quiet?: boolean } = {}): Promise<WorkspaceView | null> {
  const ws = await loadWorkspace(id);
  if (!ws) return null;
  return opts.quiet ? toWorkspaceView(ws) : publishWorkspace(ws);
}

/** Tells the owner's dashboards about a row just loaded (no second read). */
export function publishWorkspace(ws: WorkspaceRow): WorkspaceView {
  const view = toWorkspaceView(ws);
  publish({ type: "workspace", userId: ws.userId, workspaceId: ws.id, workspace: view });
  return view;
}

export function notifyWorkspaceDeleted(userId: string, workspaceId: string): void {
  publish({ type: "workspace-deleted", userId, workspaceId });
}
