import { withUser } from "@/lib/http/route";
import { sshGatewayInfo } from "@/lib/ssh/gateway-info";

export const dynamic = "force-dynamic";

/** Where the SSH gateway answers and its host key (public half and fingerprint), for the dashboard and known_hosts. */
export const GET = withUser(async () => sshGatewayInfo());
