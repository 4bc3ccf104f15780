// Pure arithmetic of quotas and host capacity: no I/O, unit-tested.

export type Quota = { maxGpus: number; maxMemoryGb: number; maxCpus: number; maxWorkspaces: number };
export type Usage = { gpus: number; memoryGb: number; cpus: number; workspaces: number };
export type Request = { gpus: number; memoryGb: number; cpus: number; newWorkspace: boolean };

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

/** One sentence per resource over quota, e.g. "GPUs: 2 requested, 1 of 2 in use". Empty when the request fits. */
export function quotaProblems(quota: Quota, usage: Usage, req: Request): string[] {
  const problems: string[] = [];
  const check = (label: string, requested: number, used: number, max: number, unit = "") => {
    if (requested > 0 && used + requested > max) {
      problems.push(`${label}: ${fmt(requested)}${unit} requested, ${fmt(used)}${unit} of ${fmt(max)}${unit} in use`);
    }
  };
  check("GPUs", req.gpus, usage.gpus, quota.maxGpus);
  check("Memory", req.memoryGb, usage.memoryGb, quota.maxMemoryGb, " GB");
  check("CPUs", req.cpus, usage.cpus, quota.maxCpus);
  if (req.newWorkspace && usage.workspaces + 1 > quota.maxWorkspaces) {
    problems.push(`Workspaces: ${usage.workspaces} of ${quota.maxWorkspaces} already exist`);
  }
  return problems;
}

export type HostCapacity = { memoryGb: number; cpus: number };

/** What is left of the host for workspaces: its total less the admin's reserve less what is handed out. */
export function hostRemaining(host: HostCapacity, reserve: HostCapacity, handedOut: { memoryGb: number; cpus: number }): HostCapacity {
  return {
    memoryGb: Math.max(0, host.memoryGb - reserve.memoryGb - handedOut.memoryGb),
    cpus: Math.max(0, host.cpus - reserve.cpus - handedOut.cpus),
  };
}

export function capacityProblems(remaining: HostCapacity, req: { memoryGb: number; cpus: number }): string[] {
  const problems: string[] = [];
  if (req.memoryGb > remaining.memoryGb) problems.push(`Memory: ${fmt(req.memoryGb)} GB requested, ${fmt(remaining.memoryGb)} GB left on this host`);
  if (req.cpus > remaining.cpus) problems.push(`CPUs: ${fmt(req.cpus)} requested, ${fmt(remaining.cpus)} left on this host`);
  return problems;
}

/** Chooses `count` free GPUs, preferring the ones a workspace had before, then the lowest indexes. Null if too few. */
export function pickGpus(free: { uuid: string; index: number }[], count: number, preferred: string[] = []): string[] | null {
  if (count === 0) return [];
  if (free.length < count) return null;
  const sorted = [...free].sort((a, b) => {
    const pa = preferred.includes(a.uuid) ? 0 : 1;
    const pb = preferred.includes(b.uuid) ? 0 : 1;
    return pa - pb || a.index - b.index;
  });
  return sorted.slice(0, count).map((g) => g.uuid);
}

export function sumUsage(rows: { gpus: number; memoryGb: number; cpus: number }[]): { gpus: number; memoryGb: number; cpus: number } {
  return rows.reduce((acc, r) => ({ gpus: acc.gpus + r.gpus, memoryGb: acc.memoryGb + r.memoryGb, cpus: acc.cpus + r.cpus }), { gpus: 0, memoryGb: 0, cpus: 0 });
}
