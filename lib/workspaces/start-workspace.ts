import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { isApiError } from "../errors";
import { recordAudit } from "../audit/record-audit";
import { inspectContainer, startContainer } from "../docker/containers";
import { inspectImage } from "../docker/images";
import { allocateGpus, checkAndPickResources, releaseGpus } from "../quotas/reserve-resources";
import { hostCapacity } from "../quotas/host-capacity";
import { findWorkspaceFor, reloadWorkspace } from "./find-workspace";
import { requireDocker } from "../docker/client";
import { claimTransition } from "./transition";
import { inFlight } from "./in-flight";
import { notifyWorkspace } from "./notify";
import { ensureImage, provisionContainer } from "./provision-container";
import { toWorkspaceView, type WorkspaceView } from "./workspace-view";

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * Starts a stopped workspace again: quota and GPUs are taken anew (its previous GPUs if free). If the GPUs differ
 * or the container is gone, a fresh container is made from the pinned image; /workspace is kept either way.
 */
export async function startWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  const ws = await findWorkspaceFor(caller, id);
  if (ws.status === "running" || ws.status === "starting") return toWorkspaceView(ws);
  await requireDocker();
  const host = await hostCapacity();
  return inFlight(id, async () => {
    const gpuUuids = await db().$transaction(async (tx) => {
      await claimTransition(id, ["stopped", "error"], "starting", "start", tx);
      const picked = await checkAndPickResources(
        tx,
        { userId: ws.userId, workspaceId: id, gpus: ws.gpus, memoryGb: ws.memoryGb, cpus: ws.cpus, preferredGpus: JSON.parse(ws.containerGpus) },
        host,
      );
      await allocateGpus(tx, id, ws.userId, picked.gpuUuids);
      await recordAudit(tx, { actor: caller, action: "workspace.start", targetType: "workspace", targetId: id, before: { status: ws.status }, after: { status: "starting", gpuUuids: picked.gpuUuids } });
      return picked.gpuUuids;
    });
    await notifyWorkspace(id);
    try {
      const container = ws.containerId ? await inspectContainer(ws.containerId) : null;
      let message = "";
      if (container && sameSet(container.gpuUuids, gpuUuids)) {
        await startContainer(container.id);
      } else {
        const image = (ws.imageDigest && (await inspectImage(ws.imageDigest))) || (await ensureImage(ws, ws.imageRef));
        await provisionContainer(await reloadWorkspace(id), image, gpuUuids, ws.jupyterToken);
        message = container
          ? `Started on other GPUs (${gpuUuids.join(", ")}); the container was recreated from its image and files in /workspace were kept.`
          : "The container was missing and was recreated from its image; files in /workspace were kept.";
      }
      await db().workspace.update({ where: { id }, data: { status: "running", statusMessage: message, startedAt: new Date() } });
    } catch (e) {
      await db().$transaction(async (tx) => {
        await releaseGpus(tx, id);
        await tx.workspace.update({ where: { id }, data: { status: "error", statusMessage: isApiError(e) ? e.message : `Could not start: ${(e as Error).message?.split("\n")[0]}` } });
      });
      if (isApiError(e) && e.code === "docker_unavailable") throw e;
    }
    return (await notifyWorkspace(id))!;
  });
}
