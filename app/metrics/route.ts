import { withPublic } from "@/lib/http/route";
import { authorizeScrape } from "@/lib/metrics/metrics-token";
import { renderMetrics } from "@/lib/metrics/metrics";

export const dynamic = "force-dynamic";

// Prometheus scrapes this with the metrics token (Host settings); it authenticates itself: no session, no API token.
export const GET = withPublic(async (req) => {
  await authorizeScrape(req.headers.get("authorization"));
  const { contentType, body } = await renderMetrics();
  return new Response(body, { headers: { "Content-Type": contentType, "Cache-Control": "no-store" } });
});
