import { db } from "../db/client";
import { ApiError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/record-audit";
import { publish } from "../events/bus";
import { checkPublicKey } from "./ssh-public-key";

export type SshKeyView = { id: string; name: string; fingerprint: string; type: string; createdAt: Date };

const viewSelect = { id: true, name: true, fingerprint: true, type: true, createdAt: true } as const;
export const MAX_KEYS_PER_USER = 50;

export function listSshKeys(userId: string): Promise<SshKeyView[]> {
  return db().sshKey.findMany({ where: { userId }, select: viewSelect, orderBy: { createdAt: "desc" } });
}

/** Adds a public key for the user; refused (422) with the reason when the key is not acceptable, 409 when it is taken. */
export async function addSshKey(userId: string, input: { name?: string; publicKey: string }, actor: Actor): Promise<SshKeyView> {
  const check = checkPublicKey(input.publicKey);
  if (!check.ok) throw new ApiError("validation_failed", check.reason, { fields: ["publicKey"] });
  const { key } = check;
  const name = (input.name?.trim() || key.comment || key.type).slice(0, 100);
  try {
    return await db().$transaction(async (tx) => {
      if ((await tx.sshKey.count({ where: { userId } })) >= MAX_KEYS_PER_USER) {
        throw new ApiError("conflict", `You already have ${MAX_KEYS_PER_USER} SSH keys; remove one first.`);
      }
      const made = await tx.sshKey.create({
        data: { userId, name, type: key.type, fingerprint: key.fingerprint, publicKey: key.publicKey },
        select: viewSelect,
      });
      await recordAudit(tx, { actor, action: "ssh_key.add", targetType: "user", targetId: userId, after: { id: made.id, name, fingerprint: made.fingerprint, type: made.type } });
      return made;
    });
  } catch (e) {
    // The unique fingerprint: one key identifies one user. The answer does not say whose it is.
    if ((e as { code?: string }).code === "P2002") {
      throw new ApiError("conflict", "This key is already registered with Gantry (a key can belong to one account only); make a new key for this account.");
    }
    throw e;
  }
}

/** Removes one of the user's keys; someone else's key does not exist for them (404). Open SSH sessions that used it end. */
export async function removeSshKey(userId: string, id: string, actor: Actor): Promise<void> {
  await db().$transaction(async (tx) => {
    const key = await tx.sshKey.findFirst({ where: { id, userId }, select: viewSelect });
    if (!key) throw notFound("No such SSH key.");
    await tx.sshKey.delete({ where: { id } });
    await recordAudit(tx, { actor, action: "ssh_key.remove", targetType: "user", targetId: userId, before: key });
  });
  publish({ type: "ssh-keys-changed", userId });
}
