import crypto from "node:crypto";
import { db } from "../db/client";

// Browser sessions are JWTs in a cookie (next-auth's JWT strategy). Each carries a session id (`sid`) and the time of
// its sign-in (`authTime`), both fixed for its whole life. Signing out records the sid here, so the cookie — and any
// copy of it, refreshed or not — is refused from the next request on; and no session outlives SESSION_MAX_AGE_S
// from its sign-in, however often it is refreshed, which bounds how long a revocation must be kept.

export const SESSION_MAX_AGE_S = 12 * 60 * 60;

export type SessionClaims = { sid?: unknown; authTime?: unknown };

export function newSessionClaims(now = Date.now()): { sid: string; authTime: number } {
  return { sid: crypto.randomBytes(18).toString("base64url"), authTime: Math.floor(now / 1000) };
}

/** Why a session's own claims end it (past its absolute lifetime), or null. Sessions from before sids had none. */
export function sessionExpired(claims: SessionClaims, now = Date.now()): boolean {
  return typeof claims.authTime === "number" && now / 1000 > claims.authTime + SESSION_MAX_AGE_S;
}

export async function isSessionRevoked(claims: SessionClaims): Promise<boolean> {
  if (typeof claims.sid !== "string") return false;
  return (await db().revokedSession.findUnique({ where: { sid: claims.sid }, select: { sid: true } })) !== null;
}

/** Ends one browser session for good (sign-out). Rows of sessions that have expired anyway are dropped on the way. */
export async function revokeSession(claims: SessionClaims & { sub?: unknown }): Promise<void> {
  if (typeof claims.sid !== "string" || !claims.sid) return;
  const authTime = typeof claims.authTime === "number" ? claims.authTime : Math.floor(Date.now() / 1000);
  const expiresAt = new Date((authTime + SESSION_MAX_AGE_S) * 1000);
  const sid = claims.sid;
  await db().$transaction([
    db().revokedSession.deleteMany({ where: { expiresAt: { lt: new Date() } } }),
    db().revokedSession.upsert({ where: { sid }, create: { sid, userId: typeof claims.sub === "string" ? claims.sub : "", expiresAt }, update: {} }),
  ]);
}
