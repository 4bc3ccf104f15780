import type { Caller } from "../auth/caller";
import { notFound } from "../errors";
import { loadWorkspace, type WorkspaceRow } from "./workspace-rows";

/** Which workspaces a caller may act on, as part of the query: their own, or every one for an admin. */
export function scopeFor(caller: Caller): { userId?: string } {
  return caller.role === "admin" ? {} : { userId: caller.id };
}

/**
 * The workspace if the caller may act on it: its owner, or an admin. For anyone else it does not exist (404),
 * so ids cannot be probed.
 */
export async function findWorkspaceFor(caller: Caller, id: string): Promise<WorkspaceRow> {
  const ws = await loadWorkspace(id);
  if (!ws || !inScope(ws, scopeFor(caller))) throw notFound("No such workspace.");
  return ws;
}

/** Whether a workspace read by id is within a scope (scopeFor): the one rule, wherever the row was read. */
export function inScope(ws: { userId: string }, scope: { userId?: string } | undefined): boolean {
  return scope?.userId === undefined || ws.userId === scope.userId;
}
