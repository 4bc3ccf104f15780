import { z } from "zod";
import { withUser } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { passwordSchema } from "@/lib/auth/password";
import { changeOwnPassword } from "@/lib/users/change-password";

export const dynamic = "force-dynamic";

const changePasswordSchema = z.strictObject({ currentPassword: z.string().min(1).max(256), newPassword: passwordSchema });

export const POST = withUser(async (req, { caller }) => {
  const body = await readJson(req, changePasswordSchema);
  await changeOwnPassword(caller, body.currentPassword, body.newPassword);
  return { ok: true };
});
