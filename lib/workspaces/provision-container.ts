import crypto from "node:crypto";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { buildContainerSpec } from "../docker/container-spec";
import { createContainer, ensureVolume, ensureWorkspaceNetwork, inspectContainer, removeContainer, startContainer } from "../docker/containers";
import { inspectImage, pullImage, PullError, type ImageInfo } from "../docker/images";
import { LABEL } from "../docker/labels";
import { userVolumeName } from "../docker/names";
import { publish } from "../events/bus";
import { getSettings } from "../settings/settings";
import { checkCudaForImage } from "../gpus/check-cuda";
import type { WorkspaceRow } from "./workspace-view";

export function newJupyterToken(): string {
  return crypto.randomBytes(32).toString("hex");
}

/** The image locally, pulling it first if needed (progress goes to the owner's dashboards). */
export async function ensureImage(ws: { id: string; userId: string }, ref: string): Promise<ImageInfo> {
  const local = await inspectImage(ref);
  if (local) return local;
  try {
    await pullImage(ref, (p) => publish({ type: "pull-progress", userId: ws.userId, workspaceId: ws.id, image: ref, ...p }));
  } catch (e) {
    if (e instanceof PullError) throw new ApiError("conflict", e.message);
    throw e;
  }
  const pulled = await inspectImage(ref);
  if (!pulled) throw new ApiError("conflict", `Image ${ref} is not present after pulling it.`);
  return pulled;
}

/**
 * Replaces whatever container the workspace has with a fresh one from `image`, with exactly `gpuUuids`,
 * and starts it. The container id is written to the database as soon as Docker returns it, so a crash
 * right after creation leaves a record that the reconciler can adopt.
 */
export async function provisionContainer(ws: WorkspaceRow, image: ImageInfo, gpuUuids: string[], jupyterToken: string): Promise<string> {
  const settings = await getSettings();
  if (gpuUuids.length) await checkCudaForImage(ws.imageId, image.env);
  await ensureWorkspaceNetwork();
  await ensureVolume(userVolumeName(ws.userId), { [LABEL.managed]: "true", [LABEL.user]: ws.userId });
  // A container of this name can be left over from a crash: remove it only if it is ours for this workspace.
  const leftover = ws.containerId ? await inspectContainer(ws.containerId) : await inspectContainer(ws.containerName);
  if (leftover && leftover.workspaceId === ws.id) await removeContainer(leftover.id);

  const catalog = await db().image.findUniqueOrThrow({ where: { id: ws.imageId } });
  const spec = buildContainerSpec({
    workspaceId: ws.id,
    userId: ws.userId,
    containerName: ws.containerName,
    image: image.id,
    imageUser: image.user,
    commandTemplate: catalog.command,
    port: catalog.port,
    memoryGb: ws.memoryGb,
    cpus: ws.cpus,
    shmSizeGb: settings.shmSizeGb,
    gpuUuids,
    jupyterToken,
    dataPath: settings.dataPath,
  });
  const containerId = await createContainer(spec);
  await db().workspace.update({
    where: { id: ws.id },
    data: { containerId, containerGpus: JSON.stringify(gpuUuids), imageDigest: image.id, jupyterToken },
  });
  await startContainer(containerId);
  return containerId;
}
