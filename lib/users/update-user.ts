import { db } from "../db/client";
import { ApiError, notFound } from "../errors";
import { hashPassword } from "../auth/password";
import { recordAudit, type Actor } from "../audit/record-audit";
import { publish } from "../events/bus";
import { toUserView, type UserView } from "./user-view";

export type UserChanges = { name?: string; role?: "admin" | "user"; disabled?: boolean; password?: string };

/** Changes a user; a new password also ends their existing sessions. The last enabled admin cannot be removed. */
export async function updateUser(userId: string, changes: UserChanges, actor: Actor): Promise<UserView> {
  const passwordHash = changes.password ? await hashPassword(changes.password) : undefined;
  const view = await db().$transaction(async (tx) => {
    const before = await tx.user.findUnique({ where: { id: userId } });
    if (!before) throw notFound("No such user.");
    const losesAdmin = before.role === "admin" && !before.disabled && (changes.role === "user" || changes.disabled === true);
    if (losesAdmin) {
      const admins = await tx.user.count({ where: { role: "admin", disabled: false } });
      if (admins <= 1) throw new ApiError("conflict", "This is the last enabled admin; make another admin first.");
    }
    const after = await tx.user.update({
      where: { id: userId },
      data: {
        name: changes.name,
        role: changes.role,
        disabled: changes.disabled,
        ...(passwordHash ? { passwordHash, sessionEpoch: { increment: 1 } } : {}),
      },
    });
    const action = passwordHash ? "user.password_reset" : "user.update";
    await recordAudit(tx, { actor, action, targetType: "user", targetId: userId, before: toUserView(before), after: toUserView(after) });
    return toUserView(after);
  });
  // After the commit, so that nothing that drops the user on this event can read them back unchanged.
  publish({ type: "user-changed", userId });
  return view;
}

export async function findUserByEmail(email: string) {
  return db().user.findUnique({ where: { email: email.trim().toLowerCase() } });
}

export async function listUsers(): Promise<UserView[]> {
  const users = await db().user.findMany({ orderBy: { createdAt: "asc" } });
  return users.map(toUserView);
}
