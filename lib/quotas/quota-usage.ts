import { db, type Tx } from "../db/client";
import { notFound } from "../errors";
import { parseWith } from "../http/read-json";
import { recordAudit, type Actor } from "../audit/record-audit";
import { getSettings, quotaSchema, type QuotaValues } from "../settings/settings";
import { HOLDING_STATUSES } from "../workspaces/lifecycle";
import { budgetPeriodStart, budgetStatus, sumUsage, type BudgetStatus, type Usage } from "./quota-math";

/** What a user holds now: GPUs, memory and CPUs of active workspaces, and how many workspaces exist. */
export async function usageOf(userId: string, client: Tx | ReturnType<typeof db> = db()): Promise<Usage> {
  const [active, workspaces] = await Promise.all([
    client.workspace.findMany({ where: { userId, status: { in: HOLDING_STATUSES } }, select: { gpus: true, memoryGb: true, cpus: true } }),
    client.workspace.count({ where: { userId } }),
  ]);
  return { ...sumUsage(active), workspaces };
}

export function quotaFromRow(row: { maxGpus: number; maxMemoryGb: number; maxCpus: number; maxWorkspaces: number; gpuHoursBudget: number | null; budgetPeriod: string }): QuotaValues {
  return {
    maxGpus: row.maxGpus,
    maxMemoryGb: row.maxMemoryGb,
    maxCpus: row.maxCpus,
    maxWorkspaces: row.maxWorkspaces,
    gpuHoursBudget: row.gpuHoursBudget,
    budgetPeriod: row.budgetPeriod === "month" ? "month" : "week",
  };
}

/** The user's GPU-hour budget this period from the usage ledger, or null when their quota has none. */
export async function budgetOf(userId: string, quota: QuotaValues, client: Tx | ReturnType<typeof db> = db(), now = new Date()): Promise<BudgetStatus | null> {
  if (quota.gpuHoursBudget === null) return null;
  const from = budgetPeriodStart(quota.budgetPeriod, now);
  const intervals = await client.usageInterval.findMany({
    where: { userId, gpus: { gt: 0 }, startedAt: { lt: now }, OR: [{ endedAt: null }, { endedAt: { gt: from } }] },
    select: { gpus: true, startedAt: true, endedAt: true },
  });
  return budgetStatus(quota.gpuHoursBudget, quota.budgetPeriod, intervals, now);
}

export async function quotaOf(userId: string, client: Tx | ReturnType<typeof db> = db()): Promise<QuotaValues> {
  const row = await client.quota.findUnique({ where: { userId } });
  if (row) return quotaFromRow(row);
  return (await getSettings(client)).defaultQuota;
}

export async function getUserQuota(userId: string): Promise<{ userId: string; quota: QuotaValues; usage: Usage; budget: BudgetStatus | null }> {
  const user = await db().user.findUnique({ where: { id: userId }, select: { id: true } });
  if (!user) throw notFound("No such user.");
  const [quota, usage] = await Promise.all([quotaOf(userId), usageOf(userId)]);
  return { userId, quota, usage, budget: await budgetOf(userId, quota) };
}

/** Sets a user's quota. Lowering it never stops running workspaces; it only blocks new launches until usage is under it. */
export async function setUserQuota(userId: string, input: QuotaValues, actor: Actor) {
  const quota = parseWith(quotaSchema, input);
  await db().$transaction(async (tx) => {
    const user = await tx.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (!user) throw notFound("No such user.");
    const before = await quotaOf(userId, tx);
    await tx.quota.upsert({ where: { userId }, create: { userId, ...quota }, update: quota });
    await recordAudit(tx, { actor, action: "quota.update", targetType: "user", targetId: userId, before, after: quota });
  });
  return getUserQuota(userId);
}
