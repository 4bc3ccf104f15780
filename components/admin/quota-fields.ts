// The four quota numbers as the admin pages show and send them.
export type QuotaValues = { maxGpus: number; maxMemoryGb: number; maxCpus: number; maxWorkspaces: number };
export type QuotaKey = keyof QuotaValues;

export const QUOTA_FIELDS: { key: QuotaKey; label: string; usageKey: "gpus" | "memoryGb" | "cpus" | "workspaces"; step: number; max: number }[] = [
  { key: "maxGpus", label: "GPUs", usageKey: "gpus", step: 1, max: 64 },
  { key: "maxMemoryGb", label: "Memory (GB)", usageKey: "memoryGb", step: 0.5, max: 4096 },
  { key: "maxCpus", label: "CPUs", usageKey: "cpus", step: 0.5, max: 1024 },
  { key: "maxWorkspaces", label: "Workspaces", usageKey: "workspaces", step: 1, max: 100 },
];

export const QUOTA_LABELS: Record<string, string> = Object.fromEntries(QUOTA_FIELDS.map((f) => [f.key, f.label]));

/** Reads the four inputs; returns the numbers, or the labels of the fields that are not numbers. */
export function parseQuota(draft: Record<QuotaKey, string>): { values: QuotaValues } | { invalid: QuotaKey[] } {
  const invalid: QuotaKey[] = [];
  const values = {} as QuotaValues;
  for (const f of QUOTA_FIELDS) {
    const raw = draft[f.key].trim();
    const n = Number(raw);
    if (raw === "" || !Number.isFinite(n)) invalid.push(f.key);
    else values[f.key] = n;
  }
  return invalid.length ? { invalid } : { values };
}

export function toDraft(q: QuotaValues): Record<QuotaKey, string> {
  return { maxGpus: String(q.maxGpus), maxMemoryGb: String(q.maxMemoryGb), maxCpus: String(q.maxCpus), maxWorkspaces: String(q.maxWorkspaces) };
}
