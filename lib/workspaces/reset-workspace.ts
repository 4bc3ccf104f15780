import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { isApiError } from "../errors";
import { recordAudit } from "../audit/record-audit";
import { removeContainer } from "../docker/containers";
import { inspectImage } from "../docker/images";
import { allocateGpus, checkAndPickResources, releaseGpus } from "../quotas/reserve-resources";
import { hostCapacity } from "../quotas/host-capacity";
import { findWorkspaceFor, reloadWorkspace } from "./find-workspace";
import { requireDocker } from "../docker/client";
import { claimTransition } from "./transition";
import { inFlight } from "./in-flight";
import { notifyWorkspace } from "./notify";
import { ensureImage, newJupyterToken, provisionContainer } from "./provision-container";
import type { WorkspaceView } from "./workspace-view";

/**
 * Resets the environment: the container is thrown away and a fresh one made from the same pinned image
 * (or the catalog's new image, if the admin changed it — the status message says so). /workspace is kept;
 * everything else (installed packages, files elsewhere) is gone. The Jupyter token is rotated.
 */
export async function resetWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  const ws = await findWorkspaceFor(caller, id);
  await requireDocker();
  const host = await hostCapacity();
  const holdsResources = ws.status === "running";
  return inFlight(id, async () => {
    const gpuUuids = await db().$transaction(async (tx) => {
      await claimTransition(id, ["running", "stopped", "error"], "resetting", "reset", tx);
      let uuids = ws.allocations.map((a) => a.gpuUuid);
      if (!holdsResources) {
        const picked = await checkAndPickResources(
          tx,
          { userId: ws.userId, workspaceId: id, gpus: ws.gpus, memoryGb: ws.memoryGb, cpus: ws.cpus, preferredGpus: JSON.parse(ws.containerGpus) },
          host,
        );
        await allocateGpus(tx, id, ws.userId, picked.gpuUuids);
        uuids = picked.gpuUuids;
      }
      await recordAudit(tx, { actor: caller, action: "workspace.reset", targetType: "workspace", targetId: id, before: { status: ws.status, containerId: ws.containerId } });
      return uuids;
    });
    await notifyWorkspace(id);
    try {
      const catalog = await db().image.findUniqueOrThrow({ where: { id: ws.imageId } });
      const refChanged = catalog.ref !== ws.imageRef;
      const image = refChanged
        ? await ensureImage(ws, catalog.ref)
        : (ws.imageDigest && (await inspectImage(ws.imageDigest))) || (await ensureImage(ws, ws.imageRef));
      if (ws.containerId) await removeContainer(ws.containerId);
      await db().workspace.update({ where: { id }, data: { containerId: null, imageRef: catalog.ref } });
      await provisionContainer(await reloadWorkspace(id), image, gpuUuids, newJupyterToken());
      const message = refChanged ? `Reset onto the catalog's new image ${catalog.ref} (was ${ws.imageRef}).` : "";
      await db().workspace.update({ where: { id }, data: { status: "running", statusMessage: message, startedAt: new Date() } });
    } catch (e) {
      await db().$transaction(async (tx) => {
        await releaseGpus(tx, id);
        await tx.workspace.update({ where: { id }, data: { status: "error", statusMessage: isApiError(e) ? e.message : `Reset failed: ${(e as Error).message?.split("\n")[0]}` } });
      });
      if (isApiError(e) && e.code === "docker_unavailable") throw e;
    }
    return (await notifyWorkspace(id))!;
  });
}
