import { withAdmin } from "@/lib/http/route";
import { listGpus } from "@/lib/gpus/list-gpus";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async () => listGpus());
