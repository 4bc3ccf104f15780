import { withUser } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { usageRangeSchema } from "@/lib/usage/usage-schemas";
import { myUsageReport } from "@/lib/usage/get-usage";

export const dynamic = "force-dynamic";

// The numbers of the /usage page: the caller's totals, each UTC day stacked by workspace, each workspace's intervals.
export const GET = withUser(async (req, { caller }) => {
  const { from, to } = parseWith(usageRangeSchema, Object.fromEntries(req.nextUrl.searchParams));
  return myUsageReport(caller, from, to);
});
