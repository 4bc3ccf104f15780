import type { Caller } from "../auth/caller";
import { backend } from "../backend/backend";
import { scopeFor } from "./find-workspace";
import { runAction } from "./run-action";
import type { WorkspaceView } from "./workspace-view";

/**
 * Stops the unit (kept, with its files) and hands its GPUs and quota back once it has stopped. An admin's force-stop is
 * this same action by an admin. Stopping a stopped (or stopping) workspace changes nothing.
 */
export async function stopWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  return (await runAction(id, {
    action: "stop",
    actor: caller,
    scope: scopeFor(caller),
    async work(ctx) {
      if (ctx.ws.containerId) await backend().stop(ctx.ws.containerId);
      return { endReason: "stopped" };
    },
  }))!;
}
