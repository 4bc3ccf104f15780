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

/** One group's share of a day: a user (admin's chart) or a workspace (a user's own chart). */
export type Part = { key: string; label: string } & Totals;
export type StackedDay = Row & { parts: Part[] };
export type Stacked = { days: StackedDay[]; series: { key: string; label: string }[] };

/**
 * The per-UTC-day x group matrix behind the stacked bars: one row per day of the range (empty days as zeros), each
 * with its groups' parts (groups with nothing that day left out). `series` lists every group that has any use in
 * the range, most GPU-hours first (then CPU-hours, then label), so colours and stacking order stay the same every day.
 */
export function stackedByDay<I extends Interval>(intervals: I[], group: (i: I) => { key: string; label: string }, from: Date, to: Date, now: Date): Stacked {
  const days = byDay(intervals, from, to, now).map((d): StackedDay => ({ ...d, parts: [] }));
  const firstDay = Math.floor(from.getTime() / DAY) * DAY;
  const sums = new Map<string, Part>();
  const cells = new Map<string, Part>();
  for (const i of intervals) {
    const g = group(i);
    // Only the days the interval touches: a year's range of short intervals stays cheap.
    const first = Math.max(0, Math.floor((i.startedAt.getTime() - firstDay) / DAY));
    const last = Math.min(days.length - 1, Math.floor((Math.min((i.endedAt ?? now).getTime(), now.getTime()) - firstDay) / DAY));
    for (let index = first; index <= last; index++) {
      const dayFrom = new Date(Math.max(firstDay + index * DAY, from.getTime()));
      const dayTo = new Date(Math.min(firstDay + (index + 1) * DAY, to.getTime()));
      const ms = overlapMs(i, dayFrom, dayTo, now);
      if (ms <= 0) continue;
      const cellKey = `${index} ${g.key}`;
      const cell = cells.get(cellKey) ?? { ...g, gpuHours: 0, cpuHours: 0, memoryGbHours: 0 };
      add(cell, i, ms);
      cells.set(cellKey, cell);
      const sum = sums.get(g.key) ?? { ...g, gpuHours: 0, cpuHours: 0, memoryGbHours: 0 };
      add(sum, i, ms);
      sums.set(g.key, sum);
    }
  }
  const series = [...sums.values()].sort((a, b) => b.gpuHours - a.gpuHours || b.cpuHours - a.cpuHours || a.label.localeCompare(b.label));
  const order = new Map(series.map((s, n) => [s.key, n]));
  for (const [cellKey, cell] of cells) {
    days[Number(cellKey.slice(0, cellKey.indexOf(" ")))].parts.push({ key: cell.key, label: cell.label, ...rounded(cell) });
  }
  for (const day of days) day.parts.sort((a, b) => order.get(a.key)! - order.get(b.key)!);
  return { days, series: series.map((s) => ({ key: s.key, label: s.label })) };
}

export const OTHERS_KEY = "others";

/**
 * The stacked days with at most `keep` series: the rest summed into one "Others" part, so a chart of 50 users stays
 * readable. The day totals do not change.
 */
export function foldSeries(stacked: Stacked, keep: number): Stacked {
  if (stacked.series.length <= keep) return stacked;
  const kept = new Set(stacked.series.slice(0, keep).map((s) => s.key));
  const days = stacked.days.map((day) => {
    const rest = day.parts.filter((p) => !kept.has(p.key));
    const parts = day.parts.filter((p) => kept.has(p.key));
    if (rest.length > 0) {
      const t = rest.reduce((s, p) => ({ gpuHours: s.gpuHours + p.gpuHours, cpuHours: s.cpuHours + p.cpuHours, memoryGbHours: s.memoryGbHours + p.memoryGbHours }), { gpuHours: 0, cpuHours: 0, memoryGbHours: 0 });
      parts.push({ key: OTHERS_KEY, label: `${stacked.series.length - keep} others`, ...rounded(t) });
    }
    return { ...day, parts };
  });
  return { days, series: [...stacked.series.slice(0, keep), { key: OTHERS_KEY, label: `${stacked.series.length - keep} others` }] };
}

/** The `n` users with the most GPU-hours in the 7 days up to now (a rolling week, the same for every reader). */
export function topUsers(intervals: Interval[], now: Date, n: number): { from: Date; to: Date; rows: Row[] } {
  const from = new Date(now.getTime() - 7 * DAY);
  return { from, to: now, rows: byUser(intervals, from, now, now).slice(0, n) };
}

/** Hours of one interval inside the range (for the history tables and the CSV). */
export function intervalTotals(i: Interval, from: Date, to: Date, now: Date): Totals {
  return totals([i], from, to, now);
}
