import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { recordAudit } from "../audit/record-audit";
import { removeContainer } from "../docker/containers";
import { publish } from "../events/bus";
import { findWorkspaceFor } from "./find-workspace";
import { requireDocker } from "../docker/client";
import { claimTransition } from "./transition";
import { inFlight } from "./in-flight";
import { toWorkspaceView } from "./workspace-view";

/** Removes the container and the record, and frees its GPUs. The user's /workspace volume stays. */
export async function deleteWorkspace(caller: Caller, id: string): Promise<void> {
  const ws = await findWorkspaceFor(caller, id);
  await requireDocker();
  await inFlight(id, async () => {
    await claimTransition(id, ["running", "stopped", "error"], "stopping", "delete");
    try {
      if (ws.containerId) await removeContainer(ws.containerId);
    } catch (e) {
      await db().workspace.update({ where: { id }, data: { status: ws.status } });
      throw e;
    }
    await db().$transaction(async (tx) => {
      await tx.workspace.delete({ where: { id } });
      await recordAudit(tx, { actor: caller, action: "workspace.delete", targetType: "workspace", targetId: id, before: toWorkspaceView(ws) });
    });
  });
  publish({ type: "workspace-deleted", userId: ws.userId, workspaceId: id });
}
