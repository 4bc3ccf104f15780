import { publish } from "../events/bus";
import { loadWorkspace, toWorkspaceView, type WorkspaceView } from "./workspace-view";

/** Reloads a workspace, tells its owner's open dashboards (SSE) unless `quiet`, and returns its view. */
export async function notifyWorkspace(id: string, opts: { quiet?: boolean } = {}): Promise<WorkspaceView | null> {
  const ws = await loadWorkspace(id);
  if (!ws) return null;
  const view = toWorkspaceView(ws);
  if (!opts.quiet) publish({ type: "workspace", userId: ws.userId, workspaceId: id, workspace: view });
  return view;
}

export function notifyWorkspaceDeleted(userId: string, workspaceId: string): void {
  publish({ type: "workspace-deleted", userId, workspaceId });
}
