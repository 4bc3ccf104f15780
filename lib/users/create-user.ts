import { db } from "../db/client";
import { ApiError } from "../errors";
import { hashPassword } from "../auth/password";
import { parseWith } from "../http/read-json";
import { recordAudit, type Actor } from "../audit/record-audit";
import { getSettings } from "../settings/settings";
import { createUserSchema, type CreateUserInput } from "./user-schemas";
import { toUserView, type UserView } from "./user-view";

/** Creates a user with the admin-set default quota. `actor` is null for the operator CLI and first start. */
export async function createUser(input: CreateUserInput, actor: Actor): Promise<UserView> {
  const data = parseWith(createUserSchema, input);
  const passwordHash = await hashPassword(data.password);
  try {
    return await db().$transaction(async (tx) => {
      const { defaultQuota } = await getSettings(tx);
      const user = await tx.user.create({
        data: {
          email: data.email,
          name: data.name ?? data.email.split("@")[0],
          passwordHash,
          role: data.role,
          quota: { create: defaultQuota },
        },
      });
      const view = toUserView(user);
      await recordAudit(tx, { actor, action: "user.create", targetType: "user", targetId: user.id, after: view });
      return view;
    });
  } catch (e) {
    if ((e as { code?: string }).code === "P2002") throw new ApiError("conflict", `A user with email ${data.email} already exists.`);
    throw e;
  }
}
