import type { Caller } from "../auth/caller";
import { ApiError } from "../errors";
import { backend } from "../backend/backend";
import { findWorkspaceFor } from "./find-workspace";
import { loadWorkspaceViews, toWorkspaceView, type WorkspaceView } from "./workspace-view";

/** The caller's workspaces; an admin asking for all gets everyone's. */
export async function listWorkspaces(caller: Caller, all: boolean): Promise<WorkspaceView[]> {
  if (all && caller.role !== "admin") throw new ApiError("forbidden", "Only an admin can list every user's workspaces.");
  return loadWorkspaceViews(all ? null : { id: caller.id, email: caller.email, name: caller.name });
}

export async function getWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  return toWorkspaceView(await findWorkspaceFor(caller, id));
}

export async function workspaceLogs(caller: Caller, id: string, tail: number): Promise<{ lines: string[] }> {
  const ws = await findWorkspaceFor(caller, id);
  if (!ws.containerId) return { lines: [] };
  // Jupyter prints its URL with the token at start-up; the token never leaves the server.
  const text = (await backend().logs(ws.containerId, tail)).replaceAll(ws.jupyterToken, "[token hidden]");
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return { lines: lines.slice(-tail) };
}
