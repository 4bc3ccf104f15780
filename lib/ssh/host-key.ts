import fs from "node:fs";
import path from "node:path";
import ssh2 from "ssh2";

const { utils } = ssh2;
import { config } from "../config";
import { fingerprintOf } from "./ssh-public-key";
import { generateEd25519 } from "./generate-key";

// The gateway's own host key: an ed25519 key generated once and kept in the data directory with mode 0600 (like
// nextauth-secret). The dashboard shows its public half and fingerprint so users can check what their client sees.

export type HostKey = { privateKey: string; publicKey: string; fingerprint: string };

function hostKeyFile(): string {
  return path.join(config.dataDir, "ssh-host-ed25519");
}

function describe(privateKey: string, file: string): HostKey {
  const parsed = utils.parseKey(privateKey);
  if (parsed instanceof Error || Array.isArray(parsed) || !parsed.isPrivateKey()) {
    throw new Error(`${file} does not hold an SSH private key; remove it to let Gantry make a new one`);
  }
  const wire = parsed.getPublicSSH();
  return { privateKey, publicKey: `${parsed.type} ${wire.toString("base64")}`, fingerprint: fingerprintOf(wire) };
}

export function loadHostKey(): HostKey {
  const file = hostKeyFile();
  if (fs.existsSync(file)) {
    fs.chmodSync(file, 0o600);
    return describe(fs.readFileSync(file, "utf8"), file);
  }
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const made = generateEd25519().private;
  // "wx": never overwrite a key another process wrote a moment ago.
  try {
    fs.writeFileSync(file, made, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    return describe(fs.readFileSync(file, "utf8"), file);
  }
  return describe(made, file);
}

/** What the dashboard may show: the public key and fingerprint, never the private key. */
export function hostKeyInfo(): { publicKey: string; fingerprint: string } {
  const { publicKey, fingerprint } = loadHostKey();
  return { publicKey, fingerprint };
}
