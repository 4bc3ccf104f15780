import { db } from "../db/client";
import { ApiError, notFound } from "../errors";
import { parseWith } from "../http/read-json";
import { recordAudit, type Actor } from "../audit/record-audit";
import { imageInputSchema, imagePatchSchema, type ImageInput, type ImagePatch } from "./image-schemas";

export type ImageView = {
  id: string;
  name: string;
  ref: string;
  description: string;
  command: string | null;
  port: number;
  cudaVersion: string | null;
  idleTimeoutMinutes: number | null;
  createdAt: Date;
  updatedAt: Date;
};

function duplicateName(e: unknown, name?: string): never {
  if ((e as { code?: string }).code === "P2002") throw new ApiError("conflict", `An image named "${name}" is already in the catalog.`);
  throw e;
}

export function listImages(): Promise<ImageView[]> {
  return db().image.findMany({ orderBy: { name: "asc" } });
}

/** How many workspaces (of anyone, in any status) use each catalog image: image id → count; unused images absent. */
export async function imageUseCounts(): Promise<Map<string, number>> {
  const rows = await db().workspace.groupBy({ by: ["imageId"], _count: { _all: true } });
  return new Map(rows.map((r) => [r.imageId, r._count._all]));
}

export async function getImage(id: string): Promise<ImageView> {
  const image = await db().image.findUnique({ where: { id } });
  if (!image) throw notFound("No such image in the catalog.");
  return image;
}

export async function addImage(input: ImageInput, actor: Actor): Promise<ImageView> {
  const data = parseWith(imageInputSchema, input);
  try {
    return await db().$transaction(async (tx) => {
      const image = await tx.image.create({ data });
      await recordAudit(tx, { actor, action: "image.create", targetType: "image", targetId: image.id, after: image });
      return image;
    });
  } catch (e) {
    duplicateName(e, data.name);
  }
}

export async function updateImage(id: string, patch: ImagePatch, actor: Actor): Promise<ImageView> {
  const data = parseWith(imagePatchSchema, patch);
  try {
    return await db().$transaction(async (tx) => {
      const before = await tx.image.findUnique({ where: { id } });
      if (!before) throw notFound("No such image in the catalog.");
      const image = await tx.image.update({ where: { id }, data });
      await recordAudit(tx, { actor, action: "image.update", targetType: "image", targetId: id, before, after: image });
      return image;
    });
  } catch (e) {
    duplicateName(e, data.name);
  }
}

export async function removeImage(id: string, actor: Actor): Promise<void> {
  await db().$transaction(async (tx) => {
    const before = await tx.image.findUnique({ where: { id } });
    if (!before) throw notFound("No such image in the catalog.");
    const inUse = await tx.workspace.count({ where: { imageId: id } });
    if (inUse > 0) throw new ApiError("conflict", `${inUse} workspace(s) still use this image; delete them first.`);
    await tx.image.delete({ where: { id } });
    await recordAudit(tx, { actor, action: "image.delete", targetType: "image", targetId: id, before });
  });
}
