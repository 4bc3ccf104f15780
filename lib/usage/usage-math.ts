// Pure arithmetic of the usage ledger: intervals clipped to a range, summed in hours, grouped by user or UTC day.

export type Interval = { userId: string; userEmail: string; gpus: number; memoryGb: number; cpus: number; startedAt: Date; endedAt: Date | null };
export type Totals = { gpuHours: number; cpuHours: number; memoryGbHours: number };

const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Milliseconds of [start, end ?? now] that fall inside [from, to]. */
export function overlapMs(i: { startedAt: Date; endedAt: Date | null }, from: Date, to: Date, now: Date): number {
  const start = Math.max(i.startedAt.getTime(), from.getTime());
  const end = Math.min((i.endedAt ?? now).getTime(), to.getTime(), now.getTime());
  return Math.max(0, end - start);
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function add(t: Totals, i: Interval, ms: number): void {
  const h = ms / HOUR;
  t.gpuHours += i.gpus * h;
  t.cpuHours += i.cpus * h;
  t.memoryGbHours += i.memoryGb * h;
}

function rounded(t: Totals): Totals {
  return { gpuHours: round(t.gpuHours), cpuHours: round(t.cpuHours), memoryGbHours: round(t.memoryGbHours) };
}

export function totals(intervals: Interval[], from: Date, to: Date, now: Date): Totals {
  const t = { gpuHours: 0, cpuHours: 0, memoryGbHours: 0 };
  for (const i of intervals) add(t, i, overlapMs(i, from, to, now));
  return rounded(t);
}

export type Row = { key: string; label: string } & Totals;

/** One row per user, sorted by GPU-hours (most first), then by label. */
export function byUser(intervals: Interval[], from: Date, to: Date, now: Date): Row[] {
  const rows = new Map<string, { label: string; t: Totals }>();
  for (const i of intervals) {
    const ms = overlapMs(i, from, to, now);
    if (ms <= 0) continue;
    const row = rows.get(i.userId) ?? { label: i.userEmail, t: { gpuHours: 0, cpuHours: 0, memoryGbHours: 0 } };
    add(row.t, i, ms);
    rows.set(i.userId, row);
  }
  return [...rows.entries()]
    .map(([key, r]) => ({ key, label: r.label, ...rounded(r.t) }))
    .sort((a, b) => b.gpuHours - a.gpuHours || a.label.localeCompare(b.label));
}

/** One row per UTC day of the range (days without use included, as zeros), oldest first. */
export function byDay(intervals: Interval[], from: Date, to: Date, now: Date): Row[] {
  const rows: Row[] = [];
  for (let d = Math.floor(from.getTime() / DAY) * DAY; d < to.getTime(); d += DAY) {
    const dayFrom = new Date(Math.max(d, from.getTime()));
    const dayTo = new Date(Math.min(d + DAY, to.getTime()));
    const key = new Date(d).toISOString().slice(0, 10);
    rows.push({ key, label: key, ...totals(intervals, dayFrom, dayTo, now) });
  }
  return rows;
}
