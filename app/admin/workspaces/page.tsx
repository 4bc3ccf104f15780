import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { ForceStopButton } from "@/components/admin/force-stop-button";
import { LiveRefresh } from "@/components/live-refresh";
import { LocalTime } from "@/components/local-time";
import { StatusBadge } from "@/components/status-badge";
import { formatNumber, shortUuid } from "@/components/format";
import { tdClass } from "@/components/form-styles";
import { DataTable, EmptyState } from "@/components/data-table";
import { listWorkspaces } from "@/lib/workspaces/list-workspaces";
import { availableActions } from "@/lib/workspaces/lifecycle";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "All workspaces" };
export const dynamic = "force-dynamic";

export default async function AdminWorkspacesPage() {
  const user = await requireAdminPage("/admin/workspaces");
  const workspaces = await listWorkspaces(user, true);
  const running = workspaces.filter((w) => w.status === "running").length;
  return (
    <AppShell user={user}>
      <LiveRefresh />
      <PageHeader title="All workspaces" description={`Every workspace of every user: ${workspaces.length} in all, ${running} running. Force stop frees a workspace's GPUs at once.`} />
      {workspaces.length === 0 ? (
        <EmptyState title="No workspaces yet">
          <p className="mt-1 text-sm text-slate-600">Nobody has launched a workspace on this host.</p>
        </EmptyState>
      ) : (
        <DataTable caption="Every workspace of every user" columns={["Workspace", "Owner", "Status", "Image", "GPUs", "Memory", "CPUs", "Started", { label: "Actions", hidden: true }]}>
          {workspaces.map((w) => (
            <tr key={w.id}>
              <th scope="row" className={`${tdClass} text-left font-medium`}>
                {w.name}
                {w.statusMessage && <span className="block max-w-xs text-xs font-normal text-slate-500">{w.statusMessage}</span>}
              </th>
              <td className={tdClass}>{w.owner.email}</td>
              <td className={tdClass}><StatusBadge status={w.status} live={false} /></td>
              <td className={tdClass}>{w.image.name}<span className="block whitespace-nowrap font-mono text-xs text-slate-500">{w.imageRef}</span></td>
              <td className={`${tdClass} whitespace-nowrap`}>
                {w.gpuDevices.length ? w.gpuDevices.map((g) => <span key={g.uuid} className="block" title={g.uuid}>#{g.index} <span className="font-mono text-xs text-slate-500">{shortUuid(g.uuid)}</span></span>) : w.gpus ? `${w.gpus} (not held)` : "None"}
              </td>
              <td className={`${tdClass} whitespace-nowrap tabular-nums`}>{formatNumber(w.memoryGb)} GB</td>
              <td className={`${tdClass} tabular-nums`}>{formatNumber(w.cpus)}</td>
              <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={w.startedAt} /></td>
              <td className={`${tdClass} whitespace-nowrap text-right`}>
                <ForceStopButton workspaceId={w.id} name={w.name} owner={w.owner.email} disabled={!availableActions(w.status).stop} />
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </AppShell>
  );
}
