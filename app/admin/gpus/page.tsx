import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { RefreshInventoryButton } from "@/components/admin/refresh-inventory-button";
import { LiveRefresh } from "@/components/live-refresh";
import { LocalTime } from "@/components/local-time";
import { formatMib } from "@/components/format";
import { tableClass, tdClass, thClass } from "@/components/form-styles";
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
        <div className="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
          <p className="text-lg font-medium">No GPUs on this host</p>
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
        </div>
      ) : (
        <div className="relative overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
          <table className={tableClass}>
            <caption className="sr-only">GPUs and who holds them</caption>
            <thead className="bg-slate-50">
              <tr>
                <th scope="col" className={thClass}>GPU</th>
                <th scope="col" className={thClass}>Model</th>
                <th scope="col" className={thClass}>Memory</th>
                <th scope="col" className={thClass}>Holder</th>
                <th scope="col" className={thClass}>Workspace</th>
                <th scope="col" className={thClass}>Since</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
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
            </tbody>
          </table>
        </div>
      )}
    </AppShell>
  );
}
