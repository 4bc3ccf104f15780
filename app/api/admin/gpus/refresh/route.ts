import { withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { emptyBodySchema } from "@/lib/http/empty-body";
import { listGpus } from "@/lib/gpus/list-gpus";
import { refreshGpuInventory } from "@/lib/gpus/refresh-inventory";

export const dynamic = "force-dynamic";

export const POST = withAdmin(async (req, { caller }) => {
  await readJson(req, emptyBodySchema);
  const inventory = await refreshGpuInventory(caller);
  return { inventory, gpus: await listGpus() };
});
