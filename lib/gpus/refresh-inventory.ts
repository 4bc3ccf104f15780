import { db } from "../db/client";
import { config } from "../config";
import { recordAudit, type Actor } from "../audit/record-audit";
import { log } from "../log";
import { runNvidiaSmi } from "./discover";

export type InventoryStatus = { refreshedAt: Date | null; error: string | null; warnings: string[] };

const key = Symbol.for("gantry.gpu-inventory");
type Holder = { [key]?: InventoryStatus };

export function inventoryStatus(): InventoryStatus {
  return (globalThis as Holder)[key] ?? { refreshedAt: null, error: "The GPU inventory has not been read yet.", warnings: [] };
}

/**
 * Reads the GPUs from nvidia-smi into the database. GPUs that vanished are dropped unless a workspace holds them
 * (those stay until released, so no allocation is lost); a host without nvidia-smi simply has no GPUs.
 */
export async function refreshGpuInventory(actor: Actor = null): Promise<InventoryStatus> {
  const result = await runNvidiaSmi(config.nvidiaSmi);
  const status: InventoryStatus = { refreshedAt: new Date(), error: result.error, warnings: result.warnings };
  (globalThis as Holder)[key] = status;
  if (result.error) {
    log.warn("GPU inventory unavailable", { error: result.error });
    // A one-off failure (a timeout, a driver hiccup) must not make the GPUs vanish: keep the last inventory.
    if (await db().gpu.count()) return status;
  }
  const now = new Date();
  await db().$transaction(async (tx) => {
    const before = await tx.gpu.findMany({ select: { uuid: true } });
    for (const g of result.gpus) {
      const data = { index: g.index, name: g.name, memoryTotalMb: g.memoryTotalMb, driverVersion: g.driverVersion, refreshedAt: now };
      await tx.gpu.upsert({ where: { uuid: g.uuid }, create: { uuid: g.uuid, ...data }, update: data });
    }
    const seen = new Set(result.gpus.map((g) => g.uuid));
    await tx.gpu.deleteMany({ where: { uuid: { notIn: [...seen] }, allocation: null } });
    if (actor) {
      await recordAudit(tx, { actor, action: "gpu.refresh", targetType: "gpu", before: before.map((b) => b.uuid), after: [...seen] });
    }
  });
  return status;
}
