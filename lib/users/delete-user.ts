import { db } from "../db/client";
import { ApiError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/record-audit";
import { backend } from "../backend/backend";
import { requireBackend } from "../workspaces/run-action";
import { deleteWorkspaceCancelling } from "../workspaces/delete-workspace";
import { publish } from "../events/bus";
import { toUserView } from "./user-view";

/**
 * Deletes a user: they are disabled first (their sessions, tokens and any new launch are refused from then on), then
 * each of their workspaces is deleted through the lifecycle runner — one in the middle of a launch or pull is cancelled
 * and waited for — and only then the user, their tokens and quota. Their /workspace data is kept unless `purgeData`.
 */
export async function deleteUser(userId: string, options: { purgeData: boolean }, actor: Actor): Promise<void> {
  const user = await db().user.findUnique({ where: { id: userId } });
  if (!user) throw notFound("No such user.");
  if (actor && actor.id === userId) throw new ApiError("conflict", "You cannot delete your own account.");
  if (user.role === "admin" && !user.disabled) {
    const admins = await db().user.count({ where: { role: "admin", disabled: false } });
    if (admins <= 1) throw new ApiError("conflict", "This is the last enabled admin; make another admin first.");
  }
  await requireBackend();
  await db().user.update({ where: { id: userId }, data: { disabled: true } });
  publish({ type: "user-changed", userId });
  // Listed after the disable: a launch's claim checks the owner in its transaction, so none can be missed.
  const workspaces = await db().workspace.findMany({ where: { userId }, select: { id: true } });
  for (const ws of workspaces) await deleteWorkspaceCancelling(ws.id, actor);
  await db().$transaction(async (tx) => {
    await tx.user.delete({ where: { id: userId } });
    await recordAudit(tx, { actor, action: options.purgeData ? "user.delete_and_purge" : "user.delete", targetType: "user", targetId: userId, before: toUserView(user) });
  });
  publish({ type: "user-changed", userId });
  if (options.purgeData) await backend().removeUserData(userId);
}
