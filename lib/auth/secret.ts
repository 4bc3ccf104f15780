import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { config } from "../config";

// Values seen in tutorials, templates and .env examples: a deployment that uses one is as good as unsigned.
const KNOWN_WEAK = new Set([
  "secret", "changeme", "change-me", "changeit", "password", "nextauth", "nextauth_secret", "next-auth",
  "development", "dev", "test", "supersecret", "super-secret", "mysecret", "my-secret", "your-secret",
  "your_secret", "your-secret-here", "replace-me", "keyboard cat", "gantry", "123456", "default",
]);

export class SecretError extends Error {}

export function checkSecret(secret: string, source: string): string {
  const trimmed = secret.trim();
  if (!trimmed) throw new SecretError(`${source} is empty. Unset it to let Gantry generate one, or set 32+ random characters.`);
  if (KNOWN_WEAK.has(trimmed.toLowerCase())) throw new SecretError(`${source} is a well-known default value; set a random one (openssl rand -base64 32).`);
  if (trimmed.length < 32) throw new SecretError(`${source} is too short (${trimmed.length} characters); use at least 32 random characters.`);
  return trimmed;
}

/** NEXTAUTH_SECRET if set; otherwise a secret generated once and kept in the data directory with mode 0600. */
export function loadAuthSecret(): string {
  const fromEnv = process.env.NEXTAUTH_SECRET;
  if (fromEnv !== undefined) return checkSecret(fromEnv, "NEXTAUTH_SECRET");
  const file = path.join(config.dataDir, "nextauth-secret");
  if (fs.existsSync(file)) {
    fs.chmodSync(file, 0o600);
    return checkSecret(fs.readFileSync(file, "utf8"), file);
  }
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const secret = crypto.randomBytes(48).toString("base64url");
  // "wx": never overwrite a secret another process wrote a moment ago.
  try {
    fs.writeFileSync(file, secret + "\n", { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return checkSecret(fs.readFileSync(file, "utf8"), file);
  }
  return secret;
}

let cached: string | undefined;
export function authSecret(): string {
  cached ??= loadAuthSecret();
  return cached;
}
