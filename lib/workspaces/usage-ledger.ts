import type { Tx } from "../db/client";

// The usage ledger's writes. Only the lifecycle runner calls these, inside the transaction that changes the status,
// so an interval is open exactly while the workspace holds resources with a running unit.

export const END_REASONS = ["stopped", "reset", "deleted", "oom", "exited", "idle", "budget", "crash", "error"] as const;
export type EndReason = (typeof END_REASONS)[number];

type Holding = { name: string; userId: string; memoryGb: number; cpus: number; user: { email: string }; allocations: { gpuUuid: string }[] };

/** Opens an interval for what the workspace holds now (the row, if the caller has it), unless one is open already. */
export async function openUsage(tx: Tx, workspaceId: string, at: Date, known?: Holding): Promise<void> {
  const open = await tx.usageInterval.findFirst({ where: { workspaceId, endedAt: null }, select: { id: true } });
  if (open) return;
  const ws =
    known ??
    (await tx.workspace.findUnique({
      where: { id: workspaceId },
      select: { name: true, userId: true, memoryGb: true, cpus: true, user: { select: { email: true } }, allocations: { select: { gpuUuid: true } } },
    }));
  if (!ws) return;
  const gpuUuids = ws.allocations.map((a) => a.gpuUuid).sort();
  await tx.usageInterval.create({
    data: {
      workspaceId,
      workspaceName: ws.name,
      userId: ws.userId,
      userEmail: ws.user.email,
      gpuUuids: JSON.stringify(gpuUuids),
      gpus: gpuUuids.length,
      memoryGb: ws.memoryGb,
      cpus: ws.cpus,
      startedAt: at,
    },
  });
}

/** Closes the workspace's open interval at `at` (never before it began). */
export async function closeUsage(tx: Tx, workspaceId: string, at: Date, reason: EndReason): Promise<void> {
  const open = await tx.usageInterval.findMany({ where: { workspaceId, endedAt: null }, select: { id: true, startedAt: true } });
  for (const row of open) {
    const end = at.getTime() < row.startedAt.getTime() ? row.startedAt : at;
    await tx.usageInterval.update({ where: { id: row.id }, data: { endedAt: end, endReason: reason } });
  }
}
