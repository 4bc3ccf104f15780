import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { byDay, byUser, totals, type Interval, type Row, type Totals } from "./usage-math";

// The usage ledger's reads: GET /api/me/usage and GET /api/admin/usage. Intervals are written by the lifecycle runner.

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
