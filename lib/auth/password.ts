import crypto from "node:crypto";
import bcrypt from "bcryptjs";
import { z } from "zod";

const ROUNDS = 11;

// bcrypt reads at most 72 bytes; longer passwords would be silently truncated, so they are refused instead.
export const passwordSchema = z
  .string()
  .min(8, "Password must be at least 8 characters")
  .refine((p) => Buffer.byteLength(p, "utf8") <= 72, "Password must be at most 72 bytes");

export function hashPassword(password: string): Promise<string> {
  return bcrypt.hash(password, ROUNDS);
}

// A hash of a random password: comparing against it costs the same as a real check, so a missing account
// takes as long to refuse as a wrong password.
const DUMMY_HASH = bcrypt.hashSync("gantry-no-such-user-" + Math.random(), ROUNDS);

export async function verifyPassword(password: string, hash: string | null | undefined): Promise<boolean> {
  const ok = await bcrypt.compare(password, hash ?? DUMMY_HASH);
  return ok && !!hash;
}

export function generatePassword(): string {
  // 18 random bytes → 24 base64url characters: strong, and copy-paste safe.
  return crypto.randomBytes(18).toString("base64url");
}
