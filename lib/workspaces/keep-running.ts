import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { recordAudit } from "../audit/record-audit";
import { getSettings } from "../settings/settings";
import { ApiError, notFound } from "../errors";
import { notifyWorkspace } from "./notify";
import type { WorkspaceView } from "./workspace-view";

/**
 * "Keep running": the owner takes back an idle warning. The idle clock starts again from now; presses are counted
 * until the workspace is really used, and refused past the admin's maximum. Only the owner may (an admin can stop
 * or start a workspace, not claim to be using it). A warning for a used-up GPU-hour budget cannot be snoozed.
 */
export async function keepRunning(caller: Caller, id: string): Promise<WorkspaceView> {
  const { maxSnoozes } = (await getSettings()).idleCulling;
  return db().$transaction(async (tx) => {
    const ws = await tx.workspace.findFirst({ where: { id, userId: caller.id }, select: { id: true, name: true, idleStopAt: true, idleStopReason: true, idleSnoozes: true } });
    if (!ws) throw notFound("No such workspace.");
    if (!ws.idleStopAt) throw new ApiError("conflict", "This workspace is not about to be stopped; there is nothing to keep running.");
    if (ws.idleStopReason === "budget") {
      throw new ApiError("conflict", "This workspace is being stopped because your GPU-hour budget is used up; Keep running cannot change that. Ask an admin for more.");
    }
    if (ws.idleSnoozes >= maxSnoozes) {
      throw new ApiError(
        "conflict",
        maxSnoozes === 0
          ? "Keep running is turned off on this server; use the workspace (Jupyter, a terminal or SSH) to keep it."
          : `You have pressed Keep running ${ws.idleSnoozes} times without using the workspace; use it (Jupyter, a terminal or SSH) to keep it running.`,
      );
    }
    const now = new Date();
    const done = await tx.workspace.updateMany({
      where: { id, idleStopAt: ws.idleStopAt, status: "running" },
      data: { idleStopAt: null, idleStopReason: null, idleSnoozedAt: now, idleSnoozes: ws.idleSnoozes + 1 },
    });
    if (!done.count) throw new ApiError("conflict", "The workspace is being stopped or changed right now; it can no longer be kept running.");
    await recordAudit(tx, { actor: caller, action: "workspace.keep_running", targetType: "workspace", targetId: id, before: { stopAt: ws.idleStopAt }, after: { snoozes: ws.idleSnoozes + 1, of: maxSnoozes } });
    return ws.id;
  }).then(async (wsId) => (await notifyWorkspace(wsId))!);
}
