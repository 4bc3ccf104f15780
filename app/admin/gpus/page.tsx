import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { GpuTelemetry } from "@/components/admin/gpu-telemetry";
import { RefreshInventoryButton } from "@/components/admin/refresh-inventory-button";
import { LiveRefresh } from "@/components/live-refresh";
import { LocalTime } from "@/components/local-time";
import { formatMib } from "@/components/format";
import { tdClass } from "@/components/form-styles";
import { DataTable, EmptyState } from "@/components/data-table";
import { inventoryStatus, listGpus } from "@/lib/gpus/list-gpus";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "GPUs" };
export const dynamic = "force-dynamic";

export default async function AdminGpusPage() {
  const user = await requireAdminPage("/admin/gpus");
  const gpus = await listGpus();
  const status = inventoryStatus();
  const held = gpus.filter((g) => g.workspaceId).length;
  return (
    <AppShell user={user}>
      <LiveRefresh />
      <PageHeader
        title="GPUs"
        description={
          gpus.length > 0
            ? `${gpus.length} GPU${gpus.length === 1 ? "" : "s"} on this host, ${held} in use by workspaces.`
            : "The GPUs of this host, as nvidia-smi reports them."
        }
      >
        <RefreshInventoryButton />
      </PageHeader>
      {gpus.length > 0 && status.refreshedAt && (
        <p className="-mt-4 mb-4 text-sm text-slate-600">
          Inventory last read from nvidia-smi <LocalTime value={status.refreshedAt} relative />.
        </p>
      )}
      {status.warnings.length > 0 && (
        <ul className="mb-4 list-disc space-y-1 rounded-md bg-amber-50 py-2 pl-8 pr-3 text-sm text-amber-900">
          {status.warnings.map((w) => <li key={w}>{w}</li>)}
        </ul>
      )}
      {gpus.length === 0 ? (
        <EmptyState title="No GPUs on this host">
          <p className="mx-auto mt-2 max-w-xl text-sm text-slate-600">
            {status.error
              ? <>Why: {status.error}</>
              : "nvidia-smi answered but listed no GPUs. Workspaces can still run on CPUs."}
          </p>
          {status.error && (
            <p className="mx-auto mt-2 max-w-xl text-xs text-slate-500">
              Check that the NVIDIA driver is installed and that nvidia-smi runs for the user Gantry runs as, then refresh the inventory.
            </p>
          )}
        </EmptyState>
      ) : (
        <DataTable caption="GPUs and who holds them" columns={["GPU", "Model", "Memory", "Holder", "Workspace", "Since"]}>
          {gpus.map((g) => (
            <tr key={g.uuid}>
              <th scope="row" className={`${tdClass} text-left font-medium`}>
                #{g.index}
                <span className="block font-mono text-xs font-normal text-slate-500">{g.uuid}</span>
              </th>
              <td className={tdClass}>{g.name}<span className="block text-xs text-slate-500">driver {g.driverVersion}</span></td>
              <td className={`${tdClass} whitespace-nowrap tabular-nums`}>{g.memoryTotalMb === null ? "—" : formatMib(g.memoryTotalMb)}</td>
              <td className={tdClass}>{g.userEmail ?? <span className="text-emerald-700">Free</span>}</td>
              <td className={tdClass}>{g.workspaceName ?? "—"}</td>
              <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={g.since} /></td>
            </tr>
          ))}
        </DataTable>
      )}
      {gpus.length > 0 && (
        <GpuTelemetry gpus={gpus.map((g) => ({ index: g.index, uuid: g.uuid, holder: g.userEmail, workspaceName: g.workspaceName }))} />
      )}
    </AppShell>
  );
}
