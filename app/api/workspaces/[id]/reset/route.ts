import { withUser } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { emptyBodySchema } from "@/lib/http/empty-body";
import { resetWorkspace } from "@/lib/workspaces/reset-workspace";

export const dynamic = "force-dynamic";

export const POST = withUser(async (req, { caller, params }) => {
  await readJson(req, emptyBodySchema);
  return resetWorkspace(caller, params.id);
});
