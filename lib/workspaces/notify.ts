import { publish } from "../events/bus";
import { loadWorkspace, toWorkspaceView, type WorkspaceView } from "./workspace-view";

/** Reloads a workspace, tells its owner's open dashboards (SSE), and returns its view. */
export async function notifyWorkspace(id: string): Promise<WorkspaceView | null> {
  const ws = await loadWorkspace(id);
  if (!ws) return null;
  const view = toWorkspaceView(ws);
  publish({ type: "workspace", userId: ws.userId, workspaceId: id, workspace: view });
  return view;
}
