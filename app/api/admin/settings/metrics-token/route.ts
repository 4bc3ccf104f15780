import { created, withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { emptyBodySchema } from "@/lib/http/empty-body";
import { metricsTokenStatus, removeMetricsToken, rotateMetricsToken } from "@/lib/metrics/metrics-token";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async () => metricsTokenStatus());

/** Makes a new metrics token (turns metrics on, or replaces the token); the answer holds it this once. */
export const POST = withAdmin(async (req, { caller }) => {
  await readJson(req, emptyBodySchema);
  return created(await rotateMetricsToken(caller));
});

/** Turns metrics off: the token stops working and GET /metrics answers 404. */
export const DELETE = withAdmin(async (_req, { caller }) => removeMetricsToken(caller));
