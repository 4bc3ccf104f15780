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

// GPU-hour budgets: a user may use so many GPU-hours per UTC calendar week (from Monday 00:00) or month.

export type BudgetPeriod = "week" | "month";
export type BudgetInterval = { gpus: number; startedAt: Date; endedAt: Date | null };
export type BudgetStatus = { budget: number; period: BudgetPeriod; used: number; left: number; from: Date; resetsAt: Date; burningGpus: number };

export function budgetPeriodStart(period: BudgetPeriod, now: Date): Date {
  if (period === "month") return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const day = (now.getUTCDay() + 6) % 7; // Monday = 0
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - day));
}

export function budgetPeriodEnd(period: BudgetPeriod, now: Date): Date {
  const from = budgetPeriodStart(period, now);
  return period === "month"
    ? new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + 1, 1))
    : new Date(from.getTime() + 7 * 86_400_000);
}

/** GPU-hours the intervals used within the period so far (an open interval counts up to now), unrounded. */
export function budgetStatus(budget: number, period: BudgetPeriod, intervals: BudgetInterval[], now: Date): BudgetStatus {
  const from = budgetPeriodStart(period, now);
  let ms = 0;
  let burningGpus = 0;
  for (const i of intervals) {
    if (i.endedAt === null) burningGpus += i.gpus;
    const start = Math.max(i.startedAt.getTime(), from.getTime());
    const end = Math.min(i.endedAt?.getTime() ?? now.getTime(), now.getTime());
    if (end > start) ms += i.gpus * (end - start);
  }
  const used = ms / 3_600_000;
  return { budget, period, used, left: Math.max(0, budget - used), from, resetsAt: budgetPeriodEnd(period, now), burningGpus };
}

export function fmtHours(h: number): string {
  return h >= 10 ? h.toFixed(0) : h >= 1 ? h.toFixed(1) : h === 0 ? "0" : String(Number(h.toPrecision(2)));
}

/** The refusal of a GPU launch or start once the budget is used up, or null while some is left. */
export function budgetProblem(s: BudgetStatus, gpus: number): string | null {
  if (gpus === 0 || s.left > 0) return null;
  return `GPU-hour budget: ${fmtHours(s.used)} of ${fmtHours(s.budget)} GPU-hours used this ${s.period}; it starts again ${s.resetsAt.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}
