import { withPublic } from "@/lib/http/route";
import { checkHealth } from "@/lib/health/check-health";

export const dynamic = "force-dynamic";

export const GET = withPublic(async () => checkHealth());
