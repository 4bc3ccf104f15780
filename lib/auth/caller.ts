import type { NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { ApiError } from "../errors";
import { authSecret } from "./secret";
import { userForToken } from "./api-tokens";
import { sessionExpired, sessionUser, type SessionClaims, type SessionUserRow } from "./session-revocation";

export type Role = "admin" | "user";
export type Caller = {
  id: string;
  email: string;
  name: string;
  role: Role;
  via: "session" | "token";
  /** The browser session behind a "session" caller (what a workspace's proxy session is tied to). */
  session?: { sid: string; authTime: number; epoch: number };
};

function toCaller(user: SessionUserRow, via: Caller["via"], claims?: SessionToken): Caller {
  const caller: Caller = { id: user.id, email: user.email, name: user.name, role: user.role === "admin" ? "admin" : "user", via };
  if (claims && typeof claims.sid === "string" && typeof claims.authTime === "number") {
    caller.session = { sid: claims.sid, authTime: claims.authTime, epoch: user.sessionEpoch };
  }
  return caller;
}

type SessionToken = SessionClaims & { sub?: unknown; epoch?: unknown };

/** Why a browser session no longer stands, in words a closed terminal can show. */
export type SessionEnd = "expired" | "signed_out" | "password_changed" | "disabled" | "deleted";

// The session only names the user; role and disabled are read from the database on every request,
// so a demotion, a disable or a deletion takes effect on the very next request; so does a sign-out.
async function checkSession(claims: SessionToken | null | undefined): Promise<{ user: SessionUserRow } | { ended: SessionEnd }> {
  if (!claims || typeof claims.sub !== "string") return { ended: "deleted" };
  if (sessionExpired(claims)) return { ended: "expired" };
  const found = await sessionUser(claims.sub, claims);
  if (!found) return { ended: "deleted" };
  const { user, revoked } = found;
  if (user.disabled) return { ended: "disabled" };
  if (revoked) return { ended: "signed_out" };
  if (user.sessionEpoch !== (typeof claims.epoch === "number" ? claims.epoch : 0)) return { ended: "password_changed" };
  return { user };
}

async function userForSession(claims: SessionToken | null | undefined): Promise<SessionUserRow | null> {
  const result = await checkSession(claims);
  return "user" in result ? result.user : null;
}

function parseCookieHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i <= 0) continue;
    const value = part.slice(i + 1).trim();
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(value);
    } catch {
      out[part.slice(0, i).trim()] = value;
    }
  }
  return out;
}

/** A browser session read from a raw Cookie header (a WebSocket upgrade), with the claims it stands on. */
export type UpgradeSession = { caller: Caller; claims: SessionToken };

/**
 * The session cookie of a raw Node request (a WebSocket upgrade, which Next never sees). Only the cookie counts:
 * next-auth's getToken would also take the session JWT from an `Authorization: Bearer` header, and reads cookies
 * only from `req.cookies` (not from `headers.cookie`), so it is handed the parsed cookies and no headers at all.
 */
export async function resolveUpgradeSession(cookieHeader: string | undefined): Promise<UpgradeSession | null> {
  return sessionFromCookies(parseCookieHeader(cookieHeader));
}

/**
 * The session a set of cookies carries (an upgrade's, or a page's: lib/auth/page-guard.ts), when it stands. Only the
 * cookie is read; nothing is re-issued (a session ends SESSION_MAX_AGE_S after its sign-in, however often refreshed).
 */
export async function sessionFromCookies(cookies: Record<string, string>): Promise<UpgradeSession | null> {
  const jwt = await getToken({ req: { cookies, headers: {} } as never, secret: authSecret() });
  if (!jwt) return null;
  const user = await userForSession(jwt);
  return user ? { caller: toCaller(user, "session", jwt), claims: jwt } : null;
}

/**
 * Whether the session an upgrade was opened with still stands (the same rules as every request, checkSession),
 * with the reason when it does not. What the user may reach with it is the caller's question (role, ownership).
 */
export async function upgradeSessionStands(session: UpgradeSession): Promise<{ ok: true } | { ok: false; ended: SessionEnd }> {
  const result = await checkSession(session.claims);
  return "user" in result ? { ok: true } : { ok: false, ended: result.ended };
}

/** Who is asking: a Bearer token (never falling back to cookies) or the session cookie. Null when nobody. */
export async function resolveCaller(req: NextRequest): Promise<Caller | null> {
  const authorization = req.headers.get("authorization");
  if (authorization !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw new ApiError("unauthorized", "The Authorization header must be 'Bearer <token>'.");
    const user = await userForToken(match[1]);
    return user ? toCaller(user, "token") : null;
  }
  const jwt = await getToken({ req, secret: authSecret() });
  if (!jwt) return null;
  const user = await userForSession(jwt);
  return user ? toCaller(user, "session", jwt) : null;
}

/**
 * Whether the credential a long-lived request (an event stream) came with still stands for the same caller, with
 * the same role: false once the user is disabled, deleted or demoted, the token revoked, the session signed out or
 * ended by a password change.
 */
export async function stillSameCaller(req: NextRequest, caller: Caller): Promise<boolean> {
  const now = await resolveCaller(req).catch(() => null);
  return now !== null && now.id === caller.id && now.role === caller.role;
}
