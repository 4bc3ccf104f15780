import { z } from "zod";
import { db } from "../db/client";
import { passwordSchema } from "../auth/password";
import { budgetOf, quotaOf, usageOf } from "../quotas/quota-usage";
import { displayNameSchema, roleSchema } from "./user-schemas";
import { toUserView } from "./user-view";

export const updateUserSchema = z
  .strictObject({
    name: displayNameSchema.optional(),
    role: roleSchema.optional(),
    disabled: z.boolean().optional(),
    password: passwordSchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, "Give at least one of name, role, disabled, password");

/** Every user with role, disabled flag, quota and current use (for the admin pages). */
export async function listUsersWithQuota() {
  const users = await db().user.findMany({ orderBy: { createdAt: "asc" } });
  return Promise.all(
    users.map(async (u) => {
      const quota = await quotaOf(u.id);
      return { ...toUserView(u), quota, usage: await usageOf(u.id), budgetUsed: (await budgetOf(u.id, quota))?.used ?? null };
    }),
  );
}
