import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { backend } from "../backend/backend";
import { scopeFor } from "./find-workspace";
import { ensureImage, newJupyterToken, pinnedImage, provision, recordUpstream } from "./provision";
import { runAction } from "./run-action";
import type { WorkspaceView } from "./workspace-view";

/**
 * Resets the environment: the unit is thrown away and a fresh one made from the same pinned image (or the catalog's
 * new image, if the admin changed it — the status message says so). /workspace is kept; everything else (installed
 * packages, files elsewhere) is gone. The Jupyter token is rotated.
 */
export async function resetWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  return (await runAction(id, {
    action: "reset",
    actor: caller,
    scope: scopeFor(caller),
    async work(ctx) {
      const catalog = await db().image.findUniqueOrThrow({ where: { id: ctx.ws.imageId } });
      const refChanged = catalog.ref !== ctx.ws.imageRef;
      // The image is looked up (or pulled) first: a reset whose image cannot be had keeps the old container.
      const image = refChanged ? await ensureImage(ctx, catalog.ref) : await pinnedImage(ctx);
      if (ctx.ws.containerId) {
        await backend().remove(ctx.ws.containerId);
        await ctx.removedPrevious();
      }
      await provision(ctx, image, { jupyterToken: newJupyterToken(), imageRef: catalog.ref, catalog });
      const statusMessage = refChanged ? `Reset onto the catalog's new image ${catalog.ref} (was ${ctx.ws.imageRef}).` : "";
      return { statusMessage, startedAt: new Date() };
    },
    after: () => recordUpstream(id),
  }))!;
}
