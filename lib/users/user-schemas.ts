import { z } from "zod";
import { passwordSchema } from "../auth/password";

export const emailSchema = z.string().trim().toLowerCase().max(254).pipe(z.email("must be an email address"));
export const displayNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100)
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters");
export const roleSchema = z.enum(["admin", "user"]);

export const createUserSchema = z.strictObject({
  email: emailSchema,
  name: displayNameSchema.optional(),
  password: passwordSchema,
  role: roleSchema.default("user"),
});
export type CreateUserInput = z.input<typeof createUserSchema>;
