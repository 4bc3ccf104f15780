import { withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { quotaSchema } from "@/lib/settings/settings";
import { getUserQuota, setUserQuota } from "@/lib/quotas/quota-usage";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async (_req, { params }) => getUserQuota(params.id));

export const PUT = withAdmin(async (req, { caller, params }) => setUserQuota(params.id, await readJson(req, quotaSchema), caller));
