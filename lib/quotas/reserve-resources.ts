import type { Tx } from "../db/client";
import { Prisma, type Quota as QuotaRow } from "../db/generated/client";
import { ApiError } from "../errors";
import { getSettings, type Settings } from "../settings/settings";
import { HOLDING_STATUSES } from "../workspaces/lifecycle";
import { budgetProblem, capacityProblems, hostRemaining, pickGpus, quotaProblems, sumUsage, type HostCapacity } from "./quota-math";
import { budgetOf, effectiveQuota } from "./quota-usage";

export type Reservation = {
  userId: string;
  /** The workspace being started again; absent for a new launch (which then also counts against maxWorkspaces). */
  workspaceId?: string;
  gpus: number;
  memoryGb: number;
  cpus: number;
  preferredGpus?: string[];
};

/**
 * Checks quota and host capacity and picks GPUs, inside the caller's transaction. Transactions on Gantry's
 * database are serialized (one SQLite writer, the adapter's mutex), so count-compare-insert cannot interleave;
 * GpuAllocation's primary key on the GPU UUID holds the line even across processes.
 */
export async function checkAndPickResources(tx: Tx, r: Reservation, host: HostCapacity | null): Promise<{ gpuUuids: string[]; settings: Settings }> {
  // Raw reads: every launch and start runs these while it holds the database's write lock, and Prisma's model calls
  // cost ~1 ms each under Next.js against ~0.2 (bench/launch-reset.ts).
  const settings = await getSettings(tx);
  const [row] = await tx.$queryRaw<QuotaRow[]>`SELECT * FROM "Quota" WHERE "userId" = ${r.userId}`;
  const quota = effectiveQuota(row ?? null, settings);
  // Everything that holds resources, but the workspace being started again: the user's share and the host's total.
  const holding = await tx.$queryRaw<{ userId: string; gpus: number; memoryGb: number; cpus: number }[]>`
    SELECT "userId", "gpus", "memoryGb", "cpus" FROM "Workspace"
    WHERE "status" IN (${Prisma.join(HOLDING_STATUSES)}) AND "id" <> ${r.workspaceId ?? ""}`;
  const [{ n: workspaces }] = await tx.$queryRaw<{ n: number }[]>`SELECT COUNT(*) AS "n" FROM "Workspace" WHERE "userId" = ${r.userId}`;
  const mine = holding.filter((w) => w.userId === r.userId);
  const usage = { ...sumUsage(mine), workspaces: Number(workspaces) };
  const problems = quotaProblems(quota, usage, { ...r, newWorkspace: !r.workspaceId });
  // The GPU-hour budget: a launch or start with GPUs is refused once it is used up (one without GPUs never is).
  if (r.gpus > 0) {
    const budget = await budgetOf(r.userId, quota, tx);
    const over = budget && budgetProblem(budget, r.gpus);
    if (over) problems.push(over);
  }
  if (problems.length) {
    throw new ApiError("quota_exceeded", `Over your quota — ${problems.join("; ")}.`, { problems });
  }
  if (host) {
    const remaining = hostRemaining(host, settings.hostReserve, sumUsage(holding));
    const full = capacityProblems(remaining, r);
    if (full.length) throw new ApiError("conflict", `Not enough room on this host — ${full.join("; ")}.`, { problems: full });
  }
  let gpuUuids: string[] = [];
  if (r.gpus > 0) {
    const free = await tx.$queryRaw<{ uuid: string; index: number }[]>`
      SELECT g."uuid", g."index" FROM "Gpu" g LEFT JOIN "GpuAllocation" a ON a."gpuUuid" = g."uuid" WHERE a."gpuUuid" IS NULL`;
    const picked = pickGpus(free, r.gpus, r.preferredGpus);
    if (!picked) {
      throw new ApiError("no_gpu_available", `No GPU available: ${r.gpus} requested, ${free.length} free.`, { free: free.length });
    }
    gpuUuids = picked;
  }
  return { gpuUuids, settings };
}

export async function allocateGpus(tx: Tx, workspaceId: string, userId: string, gpuUuids: string[]): Promise<void> {
  for (const gpuUuid of gpuUuids) {
    try {
      await tx.gpuAllocation.create({ data: { gpuUuid, workspaceId, userId } });
    } catch (e) {
      if ((e as { code?: string }).code === "P2002") throw new ApiError("no_gpu_available", "No GPU available: another workspace took it a moment ago.");
      throw e;
    }
  }
}
