import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { recordAudit } from "../audit/record-audit";
import { stopContainer } from "../docker/containers";
import { releaseGpus } from "../quotas/reserve-resources";
import { findWorkspaceFor } from "./find-workspace";
import { requireDocker } from "../docker/client";
import { claimTransition } from "./transition";
import { inFlight } from "./in-flight";
import { notifyWorkspace } from "./notify";
import type { WorkspaceView } from "./workspace-view";
import { toWorkspaceView } from "./workspace-view";

/** Stops the container (kept, with its files) and hands its GPUs and quota back. Stopping a stopped workspace is a no-op. */
export async function stopWorkspace(caller: Caller, id: string): Promise<WorkspaceView> {
  const ws = await findWorkspaceFor(caller, id);
  if (ws.status === "stopped" || ws.status === "stopping") return toWorkspaceView(ws);
  await requireDocker();
  return inFlight(id, async () => {
    await claimTransition(id, ["running", "starting", "error"], "stopping", "stop");
    await notifyWorkspace(id);
    try {
      if (ws.containerId) await stopContainer(ws.containerId);
    } catch (e) {
      // Nothing changed in Docker: put the status back as it was.
      await db().workspace.update({ where: { id }, data: { status: ws.status, statusMessage: ws.statusMessage } });
      await notifyWorkspace(id);
      throw e;
    }
    await db().$transaction(async (tx) => {
      await releaseGpus(tx, id);
      await tx.workspace.update({ where: { id }, data: { status: "stopped", statusMessage: "" } });
      await recordAudit(tx, { actor: caller, action: "workspace.stop", targetType: "workspace", targetId: id, before: { status: ws.status } , after: { status: "stopped" } });
    });
    return (await notifyWorkspace(id))!;
  });
}
