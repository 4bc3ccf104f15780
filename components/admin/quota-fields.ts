// The quota as the admin pages show and send it: four limits on what is held at once, and a GPU-hour budget.
export type QuotaValues = { maxGpus: number; maxMemoryGb: number; maxCpus: number; maxWorkspaces: number; gpuHoursBudget: number | null; budgetPeriod: "week" | "month" };
export type QuotaKey = "maxGpus" | "maxMemoryGb" | "maxCpus" | "maxWorkspaces" | "gpuHoursBudget";
export type QuotaDraft = Record<QuotaKey, string> & { budgetPeriod: "week" | "month" };

export const QUOTA_FIELDS: { key: Exclude<QuotaKey, "gpuHoursBudget">; label: string; usageKey: "gpus" | "memoryGb" | "cpus" | "workspaces"; step: number; max: number }[] = [
  { key: "maxGpus", label: "GPUs", usageKey: "gpus", step: 1, max: 64 },
  { key: "maxMemoryGb", label: "Memory (GB)", usageKey: "memoryGb", step: 0.5, max: 4096 },
  { key: "maxCpus", label: "CPUs", usageKey: "cpus", step: 0.5, max: 1024 },
  { key: "maxWorkspaces", label: "Workspaces", usageKey: "workspaces", step: 1, max: 100 },
];

export const QUOTA_LABELS: Record<string, string> = {
  ...Object.fromEntries(QUOTA_FIELDS.map((f) => [f.key, f.label])),
  gpuHoursBudget: "GPU-hour budget",
  budgetPeriod: "Budget period",
};

/** Reads the inputs; returns the values, or the fields that are not numbers. An empty budget is no budget. */
export function parseQuota(draft: QuotaDraft): { values: QuotaValues } | { invalid: QuotaKey[] } {
  const invalid: QuotaKey[] = [];
  const values = { budgetPeriod: draft.budgetPeriod, gpuHoursBudget: null } as QuotaValues;
  for (const f of QUOTA_FIELDS) {
    const raw = draft[f.key].trim();
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) invalid.push(f.key);
    else values[f.key as Exclude<QuotaKey, "gpuHoursBudget">] = n;
  }
  const budget = draft.gpuHoursBudget.trim();
  if (budget !== "") {
    const n = Number(budget);
    if (!Number.isFinite(n)) invalid.push("gpuHoursBudget");
    else values.gpuHoursBudget = n;
  }
  return invalid.length ? { invalid } : { values };
}

export function toDraft(q: QuotaValues): QuotaDraft {
  return {
    maxGpus: String(q.maxGpus),
    maxMemoryGb: String(q.maxMemoryGb),
    maxCpus: String(q.maxCpus),
    maxWorkspaces: String(q.maxWorkspaces),
    gpuHoursBudget: q.gpuHoursBudget === null ? "" : String(q.gpuHoursBudget),
    budgetPeriod: q.budgetPeriod,
  };
}
