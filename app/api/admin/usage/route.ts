import { withAdmin } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { adminUsageSchema } from "@/lib/usage/usage-schemas";
import { adminUsage } from "@/lib/usage/get-usage";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async (req) => {
  const { from, to, groupBy } = parseWith(adminUsageSchema, Object.fromEntries(req.nextUrl.searchParams));
  return adminUsage(from, to, groupBy);
});
