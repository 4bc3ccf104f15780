import { AppShell } from "@/components/app-shell";
import { QuotaPanel } from "@/components/workspaces/quota-panel";
import { WorkspacesDashboard } from "@/components/workspaces/workspaces-dashboard";
import { toWorkspaceItem } from "@/components/workspaces/workspace-item";
import type { LaunchLimits } from "@/components/workspaces/launch-form";
import { requirePageUser } from "@/lib/auth/page-guard";
import { listWorkspaces } from "@/lib/workspaces/list-workspaces";
import { listImages } from "@/lib/images/catalog";
import { budgetOf, handedOut, quotaOf, usageOf } from "@/lib/quotas/quota-usage";
import { hostCapacity } from "@/lib/quotas/host-capacity";
import { hostRemaining } from "@/lib/quotas/quota-math";
import { countFreeGpus } from "@/lib/gpus/list-gpus";
import { getSettings } from "@/lib/settings/settings";

export const dynamic = "force-dynamic";

/** What is left of the host for anyone: its capacity less the admin's reserve less what active workspaces hold. */
async function hostLeft() {
  const [host, settings, held, gpusFree] = await Promise.all([
    hostCapacity().catch(() => null), // Docker unreachable: the host's size is unknown, the API will say so on launch.
    getSettings(),
    handedOut(),
    countFreeGpus(),
  ]);
  return {
    remaining: host ? hostRemaining(host, settings.hostReserve, held) : null,
    gpusFree,
  };
}

export default async function HomePage() {
  const user = await requirePageUser("/");
  const [workspaces, images, quota, usage, host] = await Promise.all([
    listWorkspaces(user, false),
    listImages(),
    quotaOf(user.id),
    usageOf(user.id),
    hostLeft(),
  ]);
  const budget = await budgetOf(user.id, quota);
  const budgetUsedUp = budget !== null && budget.left <= 0;
  const quotaLeft = {
    gpus: Math.max(0, quota.maxGpus - usage.gpus),
    memoryGb: Math.max(0, quota.maxMemoryGb - usage.memoryGb),
    cpus: Math.max(0, quota.maxCpus - usage.cpus),
  };
  const limits: LaunchLimits = {
    gpus: { max: budgetUsedUp ? 0 : Math.min(quotaLeft.gpus, host.gpusFree), quotaLeft: quotaLeft.gpus, hostFree: host.gpusFree },
    memoryGb: {
      max: Math.min(quotaLeft.memoryGb, host.remaining?.memoryGb ?? quotaLeft.memoryGb),
      quotaLeft: quotaLeft.memoryGb,
      hostLeft: host.remaining?.memoryGb ?? null,
    },
    cpus: { max: Math.min(quotaLeft.cpus, host.remaining?.cpus ?? quotaLeft.cpus), quotaLeft: quotaLeft.cpus, hostLeft: host.remaining?.cpus ?? null },
    workspacesLeft: Math.max(0, quota.maxWorkspaces - usage.workspaces),
    budget: budget && { left: budget.left, budget: budget.budget, period: budget.period, resetsAt: budget.resetsAt.toISOString() },
  };
  return (
    <AppShell user={user}>
      <WorkspacesDashboard
        userId={user.id}
        workspaces={workspaces.map(toWorkspaceItem)}
        images={images.map((i) => ({ id: i.id, name: i.name, ref: i.ref, cudaVersion: i.cudaVersion, description: i.description }))}
        limits={limits}
        quotaPanel={<QuotaPanel quota={quota} usage={usage} />}
      />
    </AppShell>
  );
}
