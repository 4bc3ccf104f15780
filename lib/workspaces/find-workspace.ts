import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { notFound } from "../errors";
import { loadWorkspace, workspaceInclude, type WorkspaceRow } from "./workspace-view";

/**
 * The workspace if the caller may act on it: its owner, or an admin. For anyone else it does not exist (404),
 * so ids cannot be probed.
 */
export async function findWorkspaceFor(caller: Caller, id: string): Promise<WorkspaceRow> {
  const ws = await db().workspace.findFirst({
    where: caller.role === "admin" ? { id } : { id, userId: caller.id },
    include: workspaceInclude,
  });
  if (!ws) throw notFound("No such workspace.");
  return ws;
}

export async function reloadWorkspace(id: string): Promise<WorkspaceRow> {
  const ws = await loadWorkspace(id);
  if (!ws) throw notFound("No such workspace.");
  return ws;
}
