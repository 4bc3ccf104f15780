import type { Caller } from "../auth/caller";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { hashPassword, verifyPassword } from "../auth/password";
import { recordAudit } from "../audit/record-audit";
import { publish } from "../events/bus";

/** Changes the caller's own password after checking the current one; other sessions of theirs end. */
export async function changeOwnPassword(caller: Caller, currentPassword: string, newPassword: string): Promise<void> {
  const user = await db().user.findUniqueOrThrow({ where: { id: caller.id } });
  if (!(await verifyPassword(currentPassword, user.passwordHash))) {
    throw new ApiError("validation_failed", "currentPassword: the current password is wrong", { fields: ["currentPassword"] });
  }
  const passwordHash = await hashPassword(newPassword);
  await db().$transaction(async (tx) => {
    await tx.user.update({ where: { id: caller.id }, data: { passwordHash, sessionEpoch: { increment: 1 } } });
    await recordAudit(tx, { actor: caller, action: "user.password_change", targetType: "user", targetId: caller.id });
  });
  // After the commit: the proxy's access cache drops the user (their other sessions end).
  publish({ type: "user-changed", userId: caller.id });
}
