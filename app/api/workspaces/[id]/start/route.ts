import { withUser } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { emptyBodySchema } from "@/lib/http/empty-body";
import { startWorkspace } from "@/lib/workspaces/start-workspace";

export const dynamic = "force-dynamic";

export const POST = withUser(async (req, { caller, params }) => {
  await readJson(req, emptyBodySchema);
  return startWorkspace(caller, params.id);
});
