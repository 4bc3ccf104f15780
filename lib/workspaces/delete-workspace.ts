import type { Caller } from "../auth/caller";
import type { Actor } from "../audit/record-audit";
import { backend } from "../backend/backend";
import { isApiError } from "../errors";
import { scopeFor } from "./find-workspace";
import { runAction, type ActionContext } from "./run-action";

async function removeUnit(ctx: ActionContext) {
  const b = backend();
  if (ctx.ws.containerId) await b.remove(ctx.ws.containerId);
  else {
    // A unit made by a launch that crashed before recording it, found by its deterministic name (and only if ours).
    const leftover = await b.observe(ctx.ws.containerName);
    if (leftover?.workspaceId === ctx.ws.id) await b.remove(leftover.ref);
  }
  return { endReason: "deleted" as const };
}

/** Removes the unit and the record, and frees its GPUs. The user's /workspace volume stays. */
export async function deleteWorkspace(caller: Caller, id: string): Promise<void> {
  await runAction(id, { action: "delete", actor: caller, scope: scopeFor(caller), work: removeUnit });
}

/**
 * Deletes a workspace whatever it is doing (its user is being deleted): a launch, start or reset in progress is
 * cancelled and waited for, then the workspace is deleted. Already gone is success.
 */
export async function deleteWorkspaceCancelling(id: string, actor: Actor): Promise<void> {
  try {
    await runAction(id, { action: "delete", actor, cancelInFlight: true, work: removeUnit });
  } catch (e) {
    if (isApiError(e) && e.code === "not_found") return;
    throw e;
  }
}
