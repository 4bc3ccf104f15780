import { db } from "../db/client";
import { ApiError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/record-audit";
import { removeContainer, removeVolume } from "../docker/containers";
import { userVolumeName } from "../docker/names";
import { requireDocker } from "../docker/client";
import { toUserView } from "./user-view";

/**
 * Deletes a user: their containers are removed first (so nothing runs on without an owner), then the user, their
 * tokens, quota, workspaces and GPU allocations. Their /workspace volume is kept unless `purgeData` is set.
 */
export async function deleteUser(userId: string, options: { purgeData: boolean }, actor: Actor): Promise<void> {
  const user = await db().user.findUnique({ where: { id: userId }, include: { workspaces: { select: { id: true, containerId: true } } } });
  if (!user) throw notFound("No such user.");
  if (actor && actor.id === userId) throw new ApiError("conflict", "You cannot delete your own account.");
  if (user.role === "admin" && !user.disabled) {
    const admins = await db().user.count({ where: { role: "admin", disabled: false } });
    if (admins <= 1) throw new ApiError("conflict", "This is the last enabled admin; make another admin first.");
  }
  await requireDocker();
  // Disable first: the user's sessions and tokens stop working before anything else happens.
  await db().user.update({ where: { id: userId }, data: { disabled: true } });
  for (const ws of user.workspaces) if (ws.containerId) await removeContainer(ws.containerId);
  await db().$transaction(async (tx) => {
    await tx.user.delete({ where: { id: userId } });
    await recordAudit(tx, { actor, action: options.purgeData ? "user.delete_and_purge" : "user.delete", targetType: "user", targetId: userId, before: toUserView(user) });
  });
  if (options.purgeData) await removeVolume(userVolumeName(userId));
}
