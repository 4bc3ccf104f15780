import { withAdmin } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { csvAttachment } from "@/lib/http/csv-response";
import { usageRangeSchema } from "@/lib/usage/usage-schemas";
import { usageCsv } from "@/lib/usage/get-usage";

export const dynamic = "force-dynamic";

// Everyone's ledger intervals in the range, as a CSV download (admins only).
export const GET = withAdmin(async (req) => {
  const { from, to } = parseWith(usageRangeSchema, Object.fromEntries(req.nextUrl.searchParams));
  return csvAttachment(await usageCsv(null, from, to));
});
