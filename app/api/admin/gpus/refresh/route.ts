import { withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { emptyBodySchema } from "@/lib/http/empty-body";
import { refreshAndListGpus } from "@/lib/gpus/list-gpus";

export const dynamic = "force-dynamic";

export const POST = withAdmin(async (req, { caller }) => {
  await readJson(req, emptyBodySchema);
  return refreshAndListGpus(caller);
});
