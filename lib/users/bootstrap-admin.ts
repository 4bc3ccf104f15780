import { db } from "../db/client";
import { generatePassword } from "../auth/password";
import { isInitialized, markInitialized, StartupError } from "../startup/preflight";
import { isApiError } from "../errors";
import { createUser } from "./create-user";

/**
 * On the very first start (no users, data directory never initialised) creates the first admin from
 * ADMIN_EMAIL/ADMIN_PASSWORD, or with a generated password printed once. There is no web page for this.
 */
export async function bootstrapAdmin(print: (line: string) => void = console.log): Promise<void> {
  const users = await db().user.count();
  if (users > 0) {
    markInitialized();
    return;
  }
  if (isInitialized()) {
    print("Gantry: this installation has no users left. Create an admin with: npx gantry user create --email E --password P --admin");
    return;
  }
  const email = process.env.ADMIN_EMAIL?.trim() || "admin@gantry.local";
  const given = process.env.ADMIN_PASSWORD;
  const password = given || generatePassword();
  try {
    await createUser({ email, name: "Administrator", password, role: "admin" }, null);
  } catch (e) {
    if (isApiError(e)) throw new StartupError(`cannot create the first admin from ADMIN_EMAIL/ADMIN_PASSWORD: ${e.message}`);
    throw e;
  }
  markInitialized();
  if (given) {
    print(`Gantry: created the first admin ${email} with the password from ADMIN_PASSWORD.`);
  } else {
    print("");
    print("==================================================================");
    print(" Gantry: first start. An admin account was created:");
    print(`   email:    ${email}`);
    print(`   password: ${password}`);
    print(" This password is shown only now. Change it under Settings.");
    print("==================================================================");
    print("");
  }
}
