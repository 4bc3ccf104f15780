import crypto from "node:crypto";
import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { ApiError, isApiError } from "../errors";
import { parseWith } from "../http/read-json";
import { recordAudit } from "../audit/record-audit";
import { containerNameFor } from "../docker/names";
import { inspectImage, type ImageInfo } from "../docker/images";
import { removeContainer } from "../docker/containers";
import { requireDocker } from "../docker/client";
import { checkCudaForImage } from "../gpus/check-cuda";
import { allocateGpus, checkAndPickResources, releaseGpus } from "../quotas/reserve-resources";
import { hostCapacity } from "../quotas/host-capacity";
import { log } from "../log";
import { launchWorkspaceSchema, type LaunchWorkspaceInput } from "./workspace-schemas";
import { ensureImage, newJupyterToken, provisionContainer } from "./provision-container";
import { beginInFlight } from "./in-flight";
import { notifyWorkspace } from "./notify";
import { reloadWorkspace } from "./find-workspace";
import type { WorkspaceView } from "./workspace-view";

/** Lowercase hex: safe in container names, URLs and cookie paths. */
function newWorkspaceId(): string {
  return "ws" + crypto.randomBytes(10).toString("hex");
}

/**
 * Launches a workspace: reserves quota, host capacity and GPUs atomically, then creates and starts the
 * container. With the image present this returns once the container runs; an image that must be pulled
 * first returns at once with status "pulling" and the launch goes on in the background (followed by SSE).
 */
export async function launchWorkspace(caller: Caller, input: LaunchWorkspaceInput): Promise<WorkspaceView> {
  const data = parseWith(launchWorkspaceSchema, input);
  const image = await db().image.findUnique({ where: { id: data.imageId } });
  if (!image) throw new ApiError("validation_failed", "imageId: no such image in the catalog", { fields: ["imageId"] });

  await requireDocker();
  const host = await hostCapacity();
  const local = await inspectImage(image.ref);
  if (data.gpus > 0 && local) await checkCudaForImage(image.id, local.env);

  // Busy from before the record exists, so the reconciler never sees a half-made workspace.
  const id = newWorkspaceId();
  const done = beginInFlight(id);
  const created = await (async () => {
    try {
      return await db().$transaction(async (tx) => {
        const { gpuUuids } = await checkAndPickResources(tx, { userId: caller.id, ...data }, host);
        const owner = await tx.user.findUniqueOrThrow({ where: { id: caller.id } });
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
            containerName: containerNameFor(owner.email, data.name, id),
            jupyterToken: newJupyterToken(),
          },
        });
        await allocateGpus(tx, ws.id, caller.id, gpuUuids);
        await recordAudit(tx, { actor: caller, action: "workspace.launch", targetType: "workspace", targetId: ws.id, after: { ...ws, gpuUuids } });
        return { id: ws.id, gpuUuids };
      });
    } catch (e) {
      done();
      if ((e as { code?: string }).code === "P2002") throw new ApiError("conflict", `You already have a workspace named "${data.name}".`);
      throw e;
    }
  })();

  const recorded = (await notifyWorkspace(created.id))!;
  const work = finishLaunch(created.id, created.gpuUuids, local).finally(done);
  if (!local) {
    work.catch(() => {});
    return recorded;
  }
  return work;
}

/** Pulls if needed, then creates and starts the container; returns the workspace as its owner was last told. */
async function finishLaunch(id: string, gpuUuids: string[], local: ImageInfo | null): Promise<WorkspaceView> {
  const ws = await reloadWorkspace(id);
  let containerId: string | null = null;
  try {
    const image = local ?? (await ensureImage(ws, ws.imageRef));
    if (ws.status === "pulling") {
      await db().workspace.update({ where: { id }, data: { status: "starting", statusMessage: "" } });
      await notifyWorkspace(id);
    }
    containerId = await provisionContainer(await reloadWorkspace(id), image, gpuUuids, ws.jupyterToken);
    await db().workspace.update({ where: { id }, data: { status: "running", statusMessage: "", startedAt: new Date() } });
  } catch (e) {
    const dockerDown = isApiError(e) && e.code === "docker_unavailable";
    if (containerId && !dockerDown) await removeContainer(containerId).catch(() => {});
    const message = isApiError(e) ? e.message : `Could not start the workspace: ${(e as Error).message?.split("\n")[0]}`;
    if (!isApiError(e)) log.warn("launch failed", { workspaceId: id, error: e });
    await db().$transaction(async (tx) => {
      await releaseGpus(tx, id);
      await tx.workspace.update({ where: { id }, data: { status: "error", statusMessage: message, containerId: dockerDown ? containerId : null } });
    });
  }
  // A launch that went on in the background (after a pull) ends here: tell the owner's dashboards.
  return (await notifyWorkspace(id))!;
}
