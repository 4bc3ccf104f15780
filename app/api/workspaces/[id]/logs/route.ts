import { z } from "zod";
import { withUser } from "@/lib/http/route";
import { parseWith } from "@/lib/http/read-json";
import { workspaceLogs } from "@/lib/workspaces/list-workspaces";

export const dynamic = "force-dynamic";

const querySchema = z.strictObject({ tail: z.coerce.number().int().min(1).max(5000).default(200) });

export const GET = withUser(async (req, { caller, params }) => {
  const { tail } = parseWith(querySchema, Object.fromEntries(req.nextUrl.searchParams));
  return workspaceLogs(caller, params.id, tail);
});
