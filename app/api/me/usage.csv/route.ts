import { withUser } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { csvAttachment } from "@/lib/http/csv-response";
import { usageRangeSchema } from "@/lib/usage/usage-schemas";
import { usageCsv } from "@/lib/usage/get-usage";

export const dynamic = "force-dynamic";

// The caller's own ledger intervals in the range, as a CSV download.
export const GET = withUser(async (req, { caller }) => {
  const { from, to } = parseWith(usageRangeSchema, Object.fromEntries(req.nextUrl.searchParams));
  return csvAttachment(await usageCsv(caller.id, from, to));
});
