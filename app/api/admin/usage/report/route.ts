import { withAdmin } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { usageRangeSchema } from "@/lib/usage/usage-schemas";
import { adminUsageReport } from "@/lib/usage/get-usage";

export const dynamic = "force-dynamic";

// The numbers of the /admin/usage page: everyone's days stacked by user, the users, top users this week, the history.
export const GET = withAdmin(async (req) => {
  const { from, to } = parseWith(usageRangeSchema, Object.fromEntries(req.nextUrl.searchParams));
  return adminUsageReport(from, to);
});
