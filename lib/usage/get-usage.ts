import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { toCsv } from "./usage-csv";
import { byDay, byUser, intervalTotals, stackedByDay, topUsers, totals, type Interval, type Row, type Stacked, type Totals } from "./usage-math";

// The usage ledger's reads: the usage APIs, their CSV exports and the /usage pages. Intervals are written by the lifecycle runner.

function overlapping(from: Date, to: Date, userId?: string) {
  return db().usageInterval.findMany({
    where: { ...(userId ? { userId } : {}), startedAt: { lt: to }, OR: [{ endedAt: null }, { endedAt: { gt: from } }] },
    orderBy: { startedAt: "asc" },
  });
}

function toInterval(r: Awaited<ReturnType<typeof overlapping>>[number]): Interval {
  return { userId: r.userId, userEmail: r.userEmail, gpus: r.gpus, memoryGb: r.memoryGb, cpus: r.cpus, startedAt: r.startedAt, endedAt: r.endedAt };
}

export type MyUsage = {
  from: Date;
  to: Date;
  totals: Totals;
  intervals: { workspaceId: string; workspaceName: string; gpuUuids: string[]; memoryGb: number; cpus: number; start: Date; end: Date | null; endReason: string | null }[];
};

/** The caller's own intervals that overlap the range, and their totals within it (an open one counts up to now). */
export async function myUsage(caller: Caller, from: Date, to: Date): Promise<MyUsage> {
  const rows = await overlapping(from, to, caller.id);
  const now = new Date();
  return {
    from,
    to,
    totals: totals(rows.map(toInterval), from, to, now),
    intervals: rows.map((r) => ({
      workspaceId: r.workspaceId,
      workspaceName: r.workspaceName,
      gpuUuids: JSON.parse(r.gpuUuids) as string[],
      memoryGb: r.memoryGb,
      cpus: r.cpus,
      start: r.startedAt,
      end: r.endedAt,
      endReason: r.endReason,
    })),
  };
}

/** Everyone's use in the range, one row per user (label: their email) or per UTC day. */
export async function adminUsage(from: Date, to: Date, groupBy: "user" | "day"): Promise<{ from: Date; to: Date; rows: Row[] }> {
  const intervals = (await overlapping(from, to)).map(toInterval);
  const now = new Date();
  return { from, to, rows: groupBy === "user" ? byUser(intervals, from, to, now) : byDay(intervals, from, to, now) };
}

/** One ledger interval as the history tables and the CSV show it: who, which workspace, what it held, its hours in the range. */
export type HistoryRow = {
  id: string;
  workspaceId: string;
  workspaceName: string;
  userId: string;
  userEmail: string;
  gpus: number;
  gpuUuids: string[];
  memoryGb: number;
  cpus: number;
  start: Date;
  end: Date | null;
  endReason: string | null;
} & Totals;

type LedgerRow = Awaited<ReturnType<typeof overlapping>>[number];

function historyRow(r: LedgerRow, from: Date, to: Date, now: Date): HistoryRow {
  return {
    id: r.id,
    workspaceId: r.workspaceId,
    workspaceName: r.workspaceName,
    userId: r.userId,
    userEmail: r.userEmail,
    gpus: r.gpus,
    gpuUuids: JSON.parse(r.gpuUuids) as string[],
    memoryGb: r.memoryGb,
    cpus: r.cpus,
    start: r.startedAt,
    end: r.endedAt,
    endReason: r.endReason,
    ...intervalTotals(toInterval(r), from, to, now),
  };
}

/** Each workspace's intervals together, oldest first within a workspace; workspaces by name (then id: names repeat). */
function history(rows: LedgerRow[], from: Date, to: Date, now: Date): HistoryRow[] {
  return rows
    .map((r) => historyRow(r, from, to, now))
    .sort((a, b) => a.workspaceName.localeCompare(b.workspaceName) || a.workspaceId.localeCompare(b.workspaceId) || a.start.getTime() - b.start.getTime());
}

export type UsageReport = { from: Date; to: Date; totals: Totals; history: HistoryRow[] } & Stacked;
export type AdminUsageReport = UsageReport & { users: Row[]; topUsers: { from: Date; to: Date; rows: Row[] } };

const TOP_USERS = 10;

/**
 * What /usage shows, and GET /api/me/usage/report answers: the caller's totals, each UTC day stacked by workspace,
 * and each workspace's intervals. Only the caller's own rows are ever read.
 */
export async function myUsageReport(caller: Caller, from: Date, to: Date): Promise<UsageReport> {
  const rows = await overlapping(from, to, caller.id);
  const now = new Date();
  const intervals = rows.map((r) => ({ ...toInterval(r), workspaceId: r.workspaceId, workspaceName: r.workspaceName }));
  return {
    from,
    to,
    totals: totals(intervals, from, to, now),
    ...stackedByDay(intervals, (i) => ({ key: i.workspaceId, label: i.workspaceName }), from, to, now),
    history: history(rows, from, to, now),
  };
}

/**
 * What /admin/usage shows, and GET /api/admin/usage/report answers: everyone's totals, each UTC day stacked by user,
 * the users of the range, the top users of the last 7 days (whatever the range) and every workspace's intervals.
 */
export async function adminUsageReport(from: Date, to: Date): Promise<AdminUsageReport> {
  const now = new Date();
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000);
  const [rows, week] = await Promise.all([overlapping(from, to), overlapping(weekAgo, now)]);
  const intervals = rows.map(toInterval);
  return {
    from,
    to,
    totals: totals(intervals, from, to, now),
    ...stackedByDay(intervals, (i) => ({ key: i.userId, label: i.userEmail }), from, to, now),
    users: byUser(intervals, from, to, now),
    topUsers: topUsers(week.map(toInterval), now, TOP_USERS),
    history: history(rows, from, to, now),
  };
}

const CSV_HEADER = [
  "workspace_id", "workspace", "user_id", "user_email", "started_at", "ended_at", "end_reason",
  "gpus", "gpu_uuids", "memory_gb", "cpus", "gpu_hours", "cpu_hours", "memory_gb_hours",
];

/**
 * The ledger's intervals in the range as CSV, hours clipped to the range (an open interval counts up to now): a user's
 * own (`userId`), or everyone's for an admin (`null`). The one export behind both CSV routes.
 */
export async function usageCsv(userId: string | null, from: Date, to: Date): Promise<{ filename: string; text: string }> {
  const rows = history(await overlapping(from, to, userId ?? undefined), from, to, new Date());
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const text = toCsv(
    CSV_HEADER,
    rows.map((r) => [
      r.workspaceId, r.workspaceName, r.userId, r.userEmail, r.start.toISOString(), r.end?.toISOString() ?? null, r.endReason,
      r.gpus, r.gpuUuids.join(" "), r.memoryGb, r.cpus, r.gpuHours, r.cpuHours, r.memoryGbHours,
    ]),
  );
  return { filename: `gantry-usage-${userId ? "" : "all-"}${day(from)}-to-${day(to)}.csv`, text };
}
