import { withAdmin, created } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { addImage, listImages } from "@/lib/images/catalog";
import { imageInputSchema } from "@/lib/images/image-schemas";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async () => listImages());

export const POST = withAdmin(async (req, { caller }) => created(await addImage(await readJson(req, imageInputSchema), caller)));
