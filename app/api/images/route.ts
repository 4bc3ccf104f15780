import { withUser } from "@/lib/http/route";
import { listImages } from "@/lib/images/catalog";

export const dynamic = "force-dynamic";

export const GET = withUser(async () => listImages());
