import { withUser } from "@/lib/http/route";
import { workspaceEventStream } from "@/lib/events/event-stream";
import { stillSameCaller } from "@/lib/auth/caller";

export const dynamic = "force-dynamic";

export const GET = withUser(async (req, { caller }) => workspaceEventStream(caller, req.signal, () => stillSameCaller(req, caller)));
