import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { notFound } from "../errors";
import { workspaceInclude, type WorkspaceRow } from "./workspace-rows";

/** Which workspaces a caller may act on, as part of the query: their own, or every one for an admin. */
export function scopeFor(caller: Caller): { userId?: string } {
  return caller.role === "admin" ? {} : { userId: caller.id };
}

/**
 * The workspace if the caller may act on it: its owner, or an admin. For anyone else it does not exist (404),
 * so ids cannot be probed.
 */
export async function findWorkspaceFor(caller: Caller, id: string): Promise<WorkspaceRow> {
  const ws = await db().workspace.findFirst({
    where: { id, ...scopeFor(caller) },
    include: workspaceInclude,
  });
  if (!ws) throw notFound("No such workspace.");
  return ws;
}
