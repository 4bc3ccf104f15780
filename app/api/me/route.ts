import { withUser } from "@/lib/http/route";
import { quotaOf, usageOf } from "@/lib/quotas/quota-usage";

export const dynamic = "force-dynamic";

export const GET = withUser(async (_req, { caller }) => ({
  id: caller.id,
  email: caller.email,
  name: caller.name,
  role: caller.role,
  quota: await quotaOf(caller.id),
  usage: await usageOf(caller.id),
}));
