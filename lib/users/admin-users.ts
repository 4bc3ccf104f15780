import { z } from "zod";
import { db } from "../db/client";
import { passwordSchema } from "../auth/password";
import { budgetsOf, NO_USAGE, quotasOf, usageByUser } from "../quotas/quota-usage";
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

/** Every user with role, disabled flag, quota and current use (for the admin pages): five queries, whatever the number of users. */
export async function listUsersWithQuota() {
  const users = await db().user.findMany({ orderBy: { createdAt: "asc" }, select: { id: true, email: true, name: true, role: true, disabled: true, createdAt: true } });
  const ids = users.map((u) => u.id);
  const [quotas, usage] = await Promise.all([quotasOf(ids), usageByUser()]);
  const budgets = await budgetsOf(quotas);
  return users.map((u) => ({ ...toUserView(u), quota: quotas.get(u.id)!, usage: usage.get(u.id) ?? NO_USAGE, budgetUsed: budgets.get(u.id)?.used ?? null }));
}
