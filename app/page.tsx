import { AppShell } from "@/components/app-shell";
import { QuotaPanel } from "@/components/workspaces/quota-panel";
import { WorkspacesDashboard } from "@/components/workspaces/workspaces-dashboard";
import { requirePageUser } from "@/lib/auth/page-guard";
import { listWorkspaces } from "@/lib/workspaces/list-workspaces";
import { listImages } from "@/lib/images/catalog";
import { launchLimitsFor } from "@/lib/quotas/launch-limits";

export const dynamic = "force-dynamic";

export default async function HomePage() {
  const user = await requirePageUser("/");
  const listed = listWorkspaces(user, false);
  // Usage is what the listed workspaces hold: the page reads them once, for the cards and for the limits.
  const [workspaces, images, { quota, usage, limits }] = await Promise.all([listed, listImages(), launchLimitsFor(user.id, listed)]);
  return (
    <AppShell user={user}>
      <WorkspacesDashboard
        userId={user.id}
        workspaces={workspaces}
        images={images.map((i) => ({ id: i.id, name: i.name, ref: i.ref, cudaVersion: i.cudaVersion, description: i.description }))}
        limits={limits}
        quotaPanel={<QuotaPanel quota={quota} usage={usage} />}
      />
    </AppShell>
  );
}
