import crypto from "node:crypto";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { backend } from "../backend/backend";
import type { ImageInfo } from "../backend/types";
import { publish } from "../events/bus";
import { getSettings } from "../settings/settings";
import { usableDataPath } from "../settings/data-path";
import { checkCudaForImage } from "../gpus/check-cuda";
import { log } from "../log";
import type { ActionContext } from "./run-action";
import { updateWorkspace } from "./workspace-rows";
import { afterAnswer } from "../after-answer";

type CatalogImage = { command: string | null; port: number };

export function newJupyterToken(): string {
  return crypto.randomBytes(32).toString("hex");
}

/** The image in the backend, pulling it first if needed (progress goes to the owner's dashboards; a cancel aborts it). */
export async function ensureImage(ctx: ActionContext, ref: string): Promise<ImageInfo> {
  const b = backend();
  const local = await b.image(ref);
  if (local) return local;
  await b.pull(ref, (p) => publish({ type: "pull-progress", userId: ctx.ws.userId, workspaceId: ctx.ws.id, image: ref, ...p }), ctx.signal);
  const pulled = await b.image(ref);
  if (!pulled) throw new ApiError("conflict", `Image ${ref} is not present after pulling it.`);
  return pulled;
}

/** The workspace's pinned image if the backend still has it, else its ref (pulled if missing). */
export async function pinnedImage(ctx: ActionContext): Promise<ImageInfo> {
  return (ctx.ws.imageDigest && (await backend().image(ctx.ws.imageDigest))) || ensureImage(ctx, ctx.ws.imageRef);
}

/**
 * Creates the workspace's unit from `image` with exactly the GPUs it holds, records it at once, and starts it. Every
 * path that makes a container (launch, start, reset) comes through here, and so through the one spec builder.
 */
export async function provision(
  ctx: ActionContext,
  image: ImageInfo,
  opts: { jupyterToken: string; imageRef?: string; cudaChecked?: boolean; catalog?: CatalogImage },
): Promise<string> {
  const [settings, catalog] = await Promise.all([getSettings(), opts.catalog ?? db().image.findUniqueOrThrow({ where: { id: ctx.ws.imageId } })]);
  // Re-resolved for every container: the directory saved may have been swapped for a symlink to /run since.
  const dataPath = await usableDataPath(settings.dataPath);
  if (ctx.gpuUuids.length && !opts.cudaChecked) await checkCudaForImage(ctx.ws.imageId, image.env);
  ctx.checkpoint();
  const b = backend();
  const ref = await b.create({
    workspaceId: ctx.ws.id,
    userId: ctx.ws.userId,
    name: ctx.ws.containerName,
    image,
    commandTemplate: catalog.command,
    port: catalog.port,
    memoryGb: ctx.ws.memoryGb,
    cpus: ctx.ws.cpus,
    shmSizeGb: settings.shmSizeGb,
    gpuUuids: ctx.gpuUuids,
    jupyterToken: opts.jupyterToken,
    dataPath,
  });
  await ctx.created(ref, { gpuUuids: ctx.gpuUuids, imageDigest: image.id, jupyterToken: opts.jupyterToken, imageRef: opts.imageRef });
  ctx.checkpoint();
  await b.start(ref);
  return ref;
}

/**
 * Records where a running workspace answers, from the backend's observation; the proxy reads only what this wrote
 * (and the reconciler keeps it current). It runs once the action's answer is out (lib/after-answer.ts).
 */
export function recordUpstream(workspaceId: string): void {
  afterAnswer(() =>
    void (async () => {
      const [ws] = await db().$queryRaw<{ status: string; containerId: string | null; port: number }[]>`
        SELECT w."status", w."containerId", i."port" FROM "Workspace" w JOIN "Image" i ON i."id" = w."imageId" WHERE w."id" = ${workspaceId}`;
      if (!ws || ws.status !== "running" || !ws.containerId) return;
      const seen = await backend().observe(ws.containerId);
      const upstream = seen?.running && seen.address ? backend().upstreamUrl(seen.address, Number(ws.port)) : null;
      await updateWorkspace(db(), { id: workspaceId, status: "running", containerId: ws.containerId }, { upstream });
    })().catch((e) => log.warn("could not record the workspace's address", { workspaceId, error: e })),
  );
}
