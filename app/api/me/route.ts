import { withUser } from "@/lib/http/route";
import { budgetOf, quotaOf, usageOf } from "@/lib/quotas/quota-usage";

export const dynamic = "force-dynamic";

export const GET = withUser(async (_req, { caller }) => {
  const quota = await quotaOf(caller.id);
  return {
    id: caller.id,
    email: caller.email,
    name: caller.name,
    role: caller.role,
    quota,
    usage: await usageOf(caller.id),
    /** The GPU-hour budget this period (used, left, when it starts again), or null without one. */
    budget: await budgetOf(caller.id, quota),
  };
});
