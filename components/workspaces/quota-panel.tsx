import type { Quota, Usage } from "@/lib/quotas/quota-math";
import { UsageMeter } from "../usage-meter";

/** The signed-in user's quota use as four bars (server-rendered; re-read on every change). */
export function QuotaPanel({ quota, usage }: { quota: Quota; usage: Usage }) {
  return (
    <section aria-labelledby="quota-heading" className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5">
      <h2 id="quota-heading" className="text-lg font-semibold">Your quota</h2>
      <p className="mt-1 text-xs text-slate-500">Running workspaces count against GPUs, memory and CPUs; every workspace counts against the number of workspaces.</p>
      <div className="mt-4 space-y-3">
        <UsageMeter label="GPUs" used={usage.gpus} max={quota.maxGpus} />
        <UsageMeter label="Memory" used={usage.memoryGb} max={quota.maxMemoryGb} unit=" GB" />
        <UsageMeter label="CPUs" used={usage.cpus} max={quota.maxCpus} />
        <UsageMeter label="Workspaces" used={usage.workspaces} max={quota.maxWorkspaces} />
      </div>
    </section>
  );
}
