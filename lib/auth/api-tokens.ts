import crypto from "node:crypto";
import { publish } from "../events/bus";
import { db } from "../db/client";
import type { User } from "../db/generated/client";
import { notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/record-audit";

export const TOKEN_PREFIX = "gnt_";

export function hashToken(token: string): string {
  return crypto.createHash("sha256").update(token, "utf8").digest("hex");
}

export type ApiTokenView = { id: string; name: string; prefix: string; createdAt: Date; lastUsedAt: Date | null };

const viewSelect = { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true } as const;

/** Creates a personal token; the plain token is returned this once and only its hash is stored. */
export async function createApiToken(userId: string, name: string, actor: Actor): Promise<ApiTokenView & { token: string }> {
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString("base64url");
  const row = await db().$transaction(async (tx) => {
    const made = await tx.apiToken.create({
      data: { userId, name, tokenHash: hashToken(token), prefix: token.slice(0, TOKEN_PREFIX.length + 6) },
      select: viewSelect,
    });
    await recordAudit(tx, { actor, action: "token.create", targetType: "user", targetId: userId, after: { id: made.id, name, prefix: made.prefix } });
    return made;
  });
  return { ...row, token };
}

export function listApiTokens(userId: string): Promise<ApiTokenView[]> {
  return db().apiToken.findMany({ where: { userId }, select: viewSelect, orderBy: { createdAt: "desc" } });
}

export async function revokeApiToken(userId: string, id: string, actor: Actor): Promise<void> {
  await db().$transaction(async (tx) => {
    // Ownership is part of the query: someone else's token simply does not exist for this caller.
    const token = await tx.apiToken.findFirst({ where: { id, userId }, select: { id: true, name: true, prefix: true } });
    if (!token) throw notFound("No such token.");
    await tx.apiToken.delete({ where: { id } });
    await recordAudit(tx, { actor, action: "token.revoke", targetType: "user", targetId: userId, before: token });
  });
  // After the commit: the proxy drops what it knows of this user's tokens (a Jupyter client using it stops at once).
  publish({ type: "user-changed", userId });
}

/** The active user a token belongs to, or null. */
export async function userForToken(token: string) {
  if (!isApiTokenShaped(token)) return null;
  return userForTokenHash(hashToken(token));
}

/** Whether a string looks like one of Gantry's API tokens (before any lookup). */
export function isApiTokenShaped(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX) && token.length <= 200;
}

/** The active user the token with this hash belongs to, or null. */
export async function userForTokenHash(tokenHash: string): Promise<User | null> {
  // Every API request asks this: one SQL read (~0.3 ms), where Prisma's findUnique with include took ~2 ms under Next.
  const [row] = await db().$queryRaw<(User & { _tokenId: string; _lastUsedAt: Date | null })[]>`
    SELECT u.*, t."id" AS "_tokenId", t."lastUsedAt" AS "_lastUsedAt" FROM "ApiToken" t JOIN "User" u ON u."id" = t."userId"
    WHERE t."tokenHash" = ${tokenHash}`;
  if (!row || row.disabled) return null;
  const { _tokenId, _lastUsedAt, ...user } = row;
  // Last-used is informative; a lost update under concurrency is harmless.
  if (!_lastUsedAt || Date.now() - _lastUsedAt.getTime() > 60_000) {
    await db().apiToken.update({ where: { id: _tokenId }, data: { lastUsedAt: new Date() } }).catch(() => {});
  }
  return user;
}
