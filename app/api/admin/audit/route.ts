import { z } from "zod";
import { withAdmin } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { listAudit } from "@/lib/audit/record-audit";

export const dynamic = "force-dynamic";

const pageSchema = z
  .strictObject({
    page: z.coerce.number().int().min(1).max(1_000_000).optional(),
    pageSize: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().min(1).max(200).optional(),
  })
  .refine((q) => !(q.page && q.cursor), "Give page or cursor, not both.");

export const GET = withAdmin(async (req) => {
  const { page, pageSize, cursor } = parseWith(pageSchema, Object.fromEntries(req.nextUrl.searchParams));
  return listAudit(page ?? 1, pageSize, cursor);
});
