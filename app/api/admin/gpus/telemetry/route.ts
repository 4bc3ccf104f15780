import { withAdmin } from "@/lib/http/route";
import { gpuTelemetryView } from "@/lib/gpus/telemetry-history";

export const dynamic = "force-dynamic";

/** Every GPU's live reading and its last hour (one point per minute), for the admin GPU page. */
export const GET = withAdmin(async () => gpuTelemetryView(60));
