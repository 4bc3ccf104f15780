import { db } from "../db/client";
import { Prisma } from "../db/generated/client";
import { getSettings } from "../settings/settings";
import type { QuotaValues } from "../settings/settings";
import { HOLDING_STATUSES, type WorkspaceStatus } from "../workspaces/lifecycle";
import { hostCapacity } from "./host-capacity";
import { hostRemaining, sumUsage, type BudgetStatus, type HostCapacity, type Usage } from "./quota-math";
import { budgetOf, effectiveQuota } from "./quota-usage";

/** What a launch may ask for: the lower of the user's remaining quota and what the host has left, per resource. */
export type LaunchLimits = {
  gpus: { max: number; quotaLeft: number; hostFree: number };
  memoryGb: { max: number; quotaLeft: number; hostLeft: number | null };
  cpus: { max: number; quotaLeft: number; hostLeft: number | null };
  workspacesLeft: number;
  /** The GPU-hour budget's state this period, when the quota has one (no GPUs once it is used up). */
  budget: { left: number; budget: number; period: "week" | "month"; resetsAt: string } | null;
};

/** What the host has not handed out: memory and CPUs every holding workspace has together, and GPUs nobody holds. */
export type HostHeadroom = { handedOut: { memoryGb: number; cpus: number }; gpusFree: number };

/**
 * What a user holds, from the views of all of their workspaces: the workspaces in a status that holds resources
 * (the lifecycle table's rule, as usageOf applies it in SQL), and how many workspaces there are.
 */
export function usageOfWorkspaces(workspaces: { status: WorkspaceStatus; gpus: number; memoryGb: number; cpus: number }[]): Usage {
  return { ...sumUsage(workspaces.filter((w) => HOLDING_STATUSES.includes(w.status))), workspaces: workspaces.length };
}

/** The host's headroom from one query, whatever the number of users and workspaces. */
export async function hostHeadroom(): Promise<HostHeadroom> {
  const holding = Prisma.join(HOLDING_STATUSES);
  const [row] = await db().$queryRaw<{ memoryGb: number | null; cpus: number | null; gpusFree: number | bigint }[]>`
    SELECT
      (SELECT SUM("memoryGb") FROM "Workspace" WHERE "status" IN (${holding})) AS "memoryGb",
      (SELECT SUM("cpus") FROM "Workspace" WHERE "status" IN (${holding})) AS "cpus",
      (SELECT COUNT(*) FROM "Gpu" WHERE "uuid" NOT IN (SELECT "gpuUuid" FROM "GpuAllocation")) AS "gpusFree"`;
  return { handedOut: { memoryGb: Number(row?.memoryGb ?? 0), cpus: Number(row?.cpus ?? 0) }, gpusFree: Number(row?.gpusFree ?? 0) };
}

/** The launch form's limits from a user's quota, usage and budget and the host's size (null: Docker unreachable). */
export function launchLimitsFrom(f: {
  quota: QuotaValues;
  usage: Usage;
  budget: BudgetStatus | null;
  host: HostCapacity | null;
  reserve: HostCapacity;
  headroom: HostHeadroom;
}): LaunchLimits {
  const remaining = f.host ? hostRemaining(f.host, f.reserve, f.headroom.handedOut) : null;
  const gpusFree = f.headroom.gpusFree;
  const budgetUsedUp = f.budget !== null && f.budget.left <= 0;
  const quotaLeft = {
    gpus: Math.max(0, f.quota.maxGpus - f.usage.gpus),
    memoryGb: Math.max(0, f.quota.maxMemoryGb - f.usage.memoryGb),
    cpus: Math.max(0, f.quota.maxCpus - f.usage.cpus),
  };
  return {
    gpus: { max: budgetUsedUp ? 0 : Math.min(quotaLeft.gpus, gpusFree), quotaLeft: quotaLeft.gpus, hostFree: gpusFree },
    memoryGb: { max: Math.min(quotaLeft.memoryGb, remaining?.memoryGb ?? quotaLeft.memoryGb), quotaLeft: quotaLeft.memoryGb, hostLeft: remaining?.memoryGb ?? null },
    cpus: { max: Math.min(quotaLeft.cpus, remaining?.cpus ?? quotaLeft.cpus), quotaLeft: quotaLeft.cpus, hostLeft: remaining?.cpus ?? null },
    workspacesLeft: Math.max(0, f.quota.maxWorkspaces - f.usage.workspaces),
    budget: f.budget && { left: f.budget.left, budget: f.budget.budget, period: f.budget.period, resetsAt: f.budget.resetsAt.toISOString() },
  };
}

/**
 * A user's quota, usage and launch limits for the home page, given (the promise of) the views of all of their
 * workspaces, which the page shows anyway, so usage is not read again: four queries, five with a GPU-hour budget.
 */
export async function launchLimitsFor(
  userId: string,
  workspaces: PromiseLike<{ status: WorkspaceStatus; gpus: number; memoryGb: number; cpus: number }[]>,
): Promise<{ quota: QuotaValues; usage: Usage; limits: LaunchLimits }> {
  const [row, settings, headroom, host, list] = await Promise.all([
    db().quota.findUnique({ where: { userId } }),
    getSettings(),
    hostHeadroom(),
    hostCapacity().catch(() => null), // Docker unreachable: the host's size is unknown, the API will say so on launch.
    workspaces,
  ]);
  const quota = effectiveQuota(row, settings);
  const usage = usageOfWorkspaces(list);
  const budget = await budgetOf(userId, quota);
  return { quota, usage, limits: launchLimitsFrom({ quota, usage, budget, host, reserve: settings.hostReserve, headroom }) };
}
