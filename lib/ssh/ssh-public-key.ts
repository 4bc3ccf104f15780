import crypto from "node:crypto";
import ssh2, { type ParsedKey } from "ssh2";

// ssh2 is CommonJS without static named exports: Node's ESM loader sees only its default export.
const { utils } = ssh2;

// Users' SSH public keys: what the gateway accepts, and the fingerprint that identifies a key (and so its user).
// ssh2's parser does the decoding; this file only decides which of its results are acceptable and why not.

export type PublicKeyInfo = {
  type: string;
  /** SHA256:<base64, no padding>, exactly as `ssh-keygen -lf` prints it. */
  fingerprint: string;
  /** "<type> <base64>": what goes into an authorized_keys file, without the comment. */
  publicKey: string;
  /** The comment after the key, if any (a default name). */
  comment: string;
  bits: number | null;
};

export type KeyCheck = { ok: true; key: PublicKeyInfo } | { ok: false; reason: string };

export const MIN_RSA_BITS = 2048;
const MAX_LENGTH = 16 * 1024;
const ACCEPTED = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521))$/;
const KEY_TYPE_WORD = /^(ssh-|ecdsa-|sk-|rsa-sha2-)/;

/** SHA256 fingerprint of a key's wire form (the blob that follows the type in a .pub file). */
export function fingerprintOf(wire: Buffer): string {
  return "SHA256:" + crypto.createHash("sha256").update(wire).digest("base64").replace(/=+$/, "");
}

function rsaBits(parsed: ParsedKey): number | null {
  const details = crypto.createPublicKey(parsed.getPublicPEM()).asymmetricKeyDetails;
  return details?.modulusLength ?? null;
}

/** Checks one pasted OpenSSH public key line (`ssh-ed25519 AAAA… comment`); the reason is a sentence for the user. */
export function checkPublicKey(input: string): KeyCheck {
  const text = input.trim();
  if (!text) return { ok: false, reason: "The key is empty; paste the contents of your .pub file." };
  if (text.length > MAX_LENGTH) return { ok: false, reason: "The key is too long to be an SSH public key." };
  if (/PRIVATE KEY/.test(text)) {
    return { ok: false, reason: "This is a private key; never share it. Paste the public key (the .pub file) instead." };
  }
  if (/[\r\n]/.test(text)) return { ok: false, reason: "Paste one key on one line; add several keys one at a time." };
  const words = text.split(/\s+/);
  if (!KEY_TYPE_WORD.test(words[0])) {
    if (words.slice(1).some((w) => KEY_TYPE_WORD.test(w))) {
      return { ok: false, reason: "Options before the key (as in authorized_keys) are not accepted; paste the key alone." };
    }
    return { ok: false, reason: "This is not an OpenSSH public key; it should start with ssh-ed25519, ecdsa-sha2-… or ssh-rsa." };
  }
  if (words[0] === "ssh-dss") return { ok: false, reason: "DSA keys are no longer safe and are not accepted; use an ed25519 key (ssh-keygen -t ed25519)." };
  if (!ACCEPTED.test(words[0])) return { ok: false, reason: `Keys of type ${words[0]} are not accepted; use ed25519, ecdsa or rsa (2048 bits or more).` };
  if (words.length < 2) return { ok: false, reason: "The key's data is missing after its type." };
  const parsed = utils.parseKey(`${words[0]} ${words[1]}`);
  if (parsed instanceof Error || Array.isArray(parsed) || parsed.type !== words[0]) {
    return { ok: false, reason: "The key could not be read; paste the whole line of your .pub file." };
  }
  if (parsed.isPrivateKey()) return { ok: false, reason: "This is a private key; paste the public key (the .pub file) instead." };
  let bits: number | null = null;
  if (parsed.type === "ssh-rsa") {
    bits = rsaBits(parsed);
    if (bits === null || bits < MIN_RSA_BITS) {
      return { ok: false, reason: `This RSA key has ${bits ?? "too few"} bits; RSA keys need at least ${MIN_RSA_BITS} (or use ed25519).` };
    }
  }
  const wire = parsed.getPublicSSH();
  return {
    ok: true,
    key: {
      type: parsed.type,
      fingerprint: fingerprintOf(wire),
      publicKey: `${parsed.type} ${wire.toString("base64")}`,
      comment: words.slice(2).join(" "),
      bits,
    },
  };
}
