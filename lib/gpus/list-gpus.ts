import { db } from "../db/client";
import type { Actor } from "../audit/record-audit";
import { inventoryStatus, refreshGpuInventory, type InventoryStatus } from "./refresh-inventory";

/** Each GPU with who holds it, for the admin view, and why there are none if there are none. */
export async function listGpus() {
  const gpus = await db().gpu.findMany({ orderBy: { index: "asc" }, include: { allocation: { include: { workspace: { select: { name: true } }, user: { select: { email: true } } } } } });
  return gpus.map((g) => ({
      index: g.index,
      uuid: g.uuid,
      name: g.name,
      memoryTotalMb: g.memoryTotalMb,
      driverVersion: g.driverVersion,
      workspaceId: g.allocation?.workspaceId ?? null,
      workspaceName: g.allocation?.workspace.name ?? null,
      userId: g.allocation?.userId ?? null,
      userEmail: g.allocation?.user.email ?? null,
      since: g.allocation?.createdAt ?? null,
  }));
}

export { inventoryStatus };

/** Asks nvidia-smi again (an admin's "refresh"), then answers with the new inventory and its status. */
export async function refreshAndListGpus(actor: Actor): Promise<{ inventory: InventoryStatus; gpus: Awaited<ReturnType<typeof listGpus>> }> {
  const inventory = await refreshGpuInventory(actor);
  return { inventory, gpus: await listGpus() };
}
