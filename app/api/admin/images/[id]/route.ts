import { NextResponse } from "next/server";
import { withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { getImage, removeImage, updateImage } from "@/lib/images/catalog";
import { imagePatchSchema } from "@/lib/images/image-schemas";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async (_req, { params }) => getImage(params.id));

export const PATCH = withAdmin(async (req, { caller, params }) => updateImage(params.id, await readJson(req, imagePatchSchema), caller));

export const DELETE = withAdmin(async (_req, { caller, params }) => {
  await removeImage(params.id, caller);
  return new NextResponse(null, { status: 204 });
});
