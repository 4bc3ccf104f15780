import { withUser } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { usageRangeSchema } from "@/lib/usage/usage-schemas";
import { myUsage } from "@/lib/usage/get-usage";

export const dynamic = "force-dynamic";

export const GET = withUser(async (req, { caller }) => {
  const { from, to } = parseWith(usageRangeSchema, Object.fromEntries(req.nextUrl.searchParams));
  return myUsage(caller, from, to);
});
