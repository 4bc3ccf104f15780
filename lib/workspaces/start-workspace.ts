import type { Caller } from "../auth/caller";
import { backend } from "../backend/backend";
import { scopeFor } from "./find-workspace";
import { pinnedImage, provision, recordUpstream } from "./provision";
import { runAction, sameSet } from "./run-action";
import type { WorkspaceView } from "./workspace-view";

/**
 * Starts a stopped workspace again: quota and GPUs are taken anew (its previous GPUs if free). If the GPUs differ
 * or the unit is gone, a fresh one is made from the pinned image; /workspace is kept either way.
 */
export async function startWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  return (await runAction(id, {
    action: "start",
    actor: caller,
    scope: scopeFor(caller),
    async work(ctx) {
      const b = backend();
      const unit = ctx.ws.containerId ? await b.observe(ctx.ws.containerId) : null;
      if (unit && sameSet(unit.gpuUuids, ctx.gpuUuids)) {
        ctx.checkpoint();
        await b.start(unit.ref);
        return { startedAt: new Date() };
      }
      const image = await pinnedImage(ctx);
      if (unit) {
        await b.remove(unit.ref);
        await ctx.removedPrevious();
      }
      await provision(ctx, image, { jupyterToken: ctx.ws.jupyterToken });
      const statusMessage = unit
        ? `Started on other GPUs (${ctx.gpuUuids.join(", ")}); the container was recreated from its image and files in /workspace were kept.`
        : "The container was missing and was recreated from its image; files in /workspace were kept.";
      return { statusMessage, startedAt: new Date() };
    },
    after: () => recordUpstream(id),
  }))!;
}
