import { publish } from "../events/bus";
import { loadWorkspace, type WorkspaceRow } from "./workspace-rows";
import { toWorkspaceView, type WorkspaceView } from "./workspace-view";

/** Reloads a workspace, tells its owner's open dashboards (SSE), and returns its view. */
export async function notifyWorkspace(id: string): Promise<WorkspaceView | null> {
  const ws = await loadWorkspace(id);
  return ws ? publishWorkspace(ws) : null;
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
