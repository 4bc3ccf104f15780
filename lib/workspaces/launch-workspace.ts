import crypto from "node:crypto";
import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { parseWith } from "../http/read-json";
import { recordAudit } from "../audit/record-audit";
import { backend } from "../backend/backend";
import { checkCudaForImage } from "../gpus/check-cuda";
import { allocateGpus, checkAndPickResources } from "../quotas/reserve-resources";
import { hostCapacity } from "../quotas/host-capacity";
import { launchWorkspaceSchema, type LaunchWorkspaceInput } from "./workspace-schemas";
import { ensureImage, newJupyterToken, provision, recordUpstream } from "./provision";
import { requireBackend, runLaunch } from "./run-action";
import type { WorkspaceView } from "./workspace-view";

/** Lowercase hex: safe in container names, URLs and cookie paths. */
function newWorkspaceId(): string {
  return "ws" + crypto.randomBytes(10).toString("hex");
}

/**
 * Launches a workspace: the runner's claim reserves quota, host capacity and GPUs atomically with the new record,
 * then the unit is created and started. With the image present this returns once it runs; an image that must be
 * pulled first returns at once with status "pulling" and the launch goes on in the background (followed by SSE).
 */
export async function launchWorkspace(caller: Caller, input: LaunchWorkspaceInput): Promise<WorkspaceView> {
  const data = parseWith(launchWorkspaceSchema, input);
  const image = await db().image.findUnique({ where: { id: data.imageId } });
  if (!image) throw new ApiError("validation_failed", "imageId: no such image in the catalog", { fields: ["imageId"] });

  await requireBackend();
  const b = backend();
  const [host, local] = await Promise.all([hostCapacity(), b.image(image.ref)]);
  if (data.gpus > 0 && local) await checkCudaForImage(image.id, local.env);

  const id = newWorkspaceId();
  try {
    return await runLaunch(
      async (tx, claim) => {
        // Checked in the claim's transaction: deleting a user disables it first, so no launch can slip in after.
        const [owner] = await tx.$queryRaw<{ disabled: boolean }[]>`SELECT "disabled" FROM "User" WHERE "id" = ${caller.id}`;
        if (!owner || owner.disabled) throw new ApiError("unauthorized", "Your account is disabled or gone.");
        const { gpuUuids } = await checkAndPickResources(tx, { userId: caller.id, ...data }, host);
        const ws = await tx.workspace.create({
          data: {
            id,
            userId: caller.id,
            name: data.name,
            imageId: image.id,
            imageRef: image.ref,
            gpus: data.gpus,
            memoryGb: data.memoryGb,
            cpus: data.cpus,
            status: local ? "starting" : "pulling",
            statusMessage: local ? "" : `Pulling ${image.ref}`,
            containerName: b.unitName(),
            jupyterToken: newJupyterToken(),
            ...claim,
          },
        });
        await allocateGpus(tx, ws.id, caller.id, gpuUuids);
        await recordAudit(tx, { actor: caller, action: "workspace.launch", targetType: "workspace", targetId: ws.id, after: { ...ws, gpuUuids } });
        return { id: ws.id, gpuUuids };
      },
      {
        actor: caller,
        background: !local,
        async work(ctx) {
          const img = local ?? (await ensureImage(ctx, ctx.ws.imageRef));
          if (!local) {
            if (ctx.gpuUuids.length) await checkCudaForImage(image.id, img.env);
            await ctx.phase("starting");
          }
          await provision(ctx, img, { jupyterToken: ctx.ws.jupyterToken, cudaChecked: true, catalog: image });
          return { startedAt: new Date() };
        },
        after: () => recordUpstream(id),
      },
    );
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") throw new ApiError("conflict", `You already have a workspace named "${data.name}".`);
    throw e;
  }
}
