import { withUser } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { emptyBodySchema } from "@/lib/http/empty-body";
import { keepRunning } from "@/lib/workspaces/keep-running";

export const dynamic = "force-dynamic";

/** The idle warning's "Keep running" button: the owner's only. */
export const POST = withUser(async (req, { caller, params }) => {
  await readJson(req, emptyBodySchema);
  return keepRunning(caller, params.id);
});
