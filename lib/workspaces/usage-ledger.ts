import crypto from "node:crypto";
import type { Tx } from "../db/client";
import { loadWorkspace } from "./workspace-rows";

// The usage ledger's writes. Only the lifecycle runner calls these, inside the transaction that changes the status,
// so an interval is open exactly while the workspace holds resources with a running unit.

export const END_REASONS = ["stopped", "reset", "deleted", "oom", "exited", "idle", "budget", "crash", "error"] as const;
export type EndReason = (typeof END_REASONS)[number];

type Holding = { name: string; userId: string; memoryGb: number; cpus: number; user: { email: string }; allocations: { gpuUuid: string }[] };

// In SQL: each launch, start and reset opens an interval and each stop or reset closes one, inside the transaction that
// holds the database's write lock, where Prisma's find-then-create cost ~4 ms under Next.js and these ~0.5.

/** Opens an interval for what the workspace holds now (the row, if the caller has it), unless one is open already. */
export async function openUsage(tx: Tx, workspaceId: string, at: Date, known?: Holding): Promise<void> {
  const open = await tx.$queryRaw<unknown[]>`SELECT 1 FROM "UsageInterval" WHERE "workspaceId" = ${workspaceId} AND "endedAt" IS NULL LIMIT 1`;
  if (open.length) return;
  const ws = known ?? (await loadWorkspace(workspaceId, tx));
  if (!ws) return;
  const gpuUuids = ws.allocations.map((a) => a.gpuUuid).sort();
  await tx.$executeRaw`
    INSERT INTO "UsageInterval" ("id", "workspaceId", "workspaceName", "userId", "userEmail", "gpuUuids", "gpus", "memoryGb", "cpus", "startedAt")
    VALUES (${crypto.randomUUID()}, ${workspaceId}, ${ws.name}, ${ws.userId}, ${ws.user.email}, ${JSON.stringify(gpuUuids)}, ${gpuUuids.length}, ${ws.memoryGb}, ${ws.cpus}, ${at})`;
}

/**
 * Closes the workspace's open interval at `at` (never before it began). The dates compare as the text the adapter
 * stores (ISO 8601, one format, so text order is time order).
 */
export async function closeUsage(tx: Tx, workspaceId: string, at: Date, reason: EndReason): Promise<void> {
  await tx.$executeRaw`
    UPDATE "UsageInterval" SET "endedAt" = CASE WHEN "startedAt" > ${at} THEN "startedAt" ELSE ${at} END, "endReason" = ${reason}
    WHERE "workspaceId" = ${workspaceId} AND "endedAt" IS NULL`;
}
