import type { NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { getServerSession } from "next-auth";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { authSecret } from "./secret";
import { authOptions } from "./auth-options";
import { userForToken } from "./api-tokens";
import { isSessionRevoked, sessionExpired, type SessionClaims } from "./session-revocation";

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

type UserRow = { id: string; email: string; name: string; role: string; disabled: boolean; sessionEpoch: number };

function toCaller(user: UserRow, via: Caller["via"], claims?: SessionToken): Caller {
  const caller: Caller = { id: user.id, email: user.email, name: user.name, role: user.role === "admin" ? "admin" : "user", via };
  if (claims && typeof claims.sid === "string" && typeof claims.authTime === "number") {
    caller.session = { sid: claims.sid, authTime: claims.authTime, epoch: user.sessionEpoch };
  }
  return caller;
}

type SessionToken = SessionClaims & { sub?: unknown; epoch?: unknown };

// The session only names the user; role and disabled are read from the database on every request,
// so a demotion, a disable or a deletion takes effect on the very next request; so does a sign-out.
async function userForSession(claims: SessionToken | null | undefined): Promise<UserRow | null> {
  if (!claims || typeof claims.sub !== "string" || sessionExpired(claims)) return null;
  const [user, revoked] = await Promise.all([db().user.findUnique({ where: { id: claims.sub } }), isSessionRevoked(claims)]);
  if (!user || revoked || user.disabled || user.sessionEpoch !== (typeof claims.epoch === "number" ? claims.epoch : 0)) return null;
  return user;
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

/** The signed-in user for server components and pages, or null. */
export async function currentUser(): Promise<Caller | null> {
  const session = await getServerSession(authOptions());
  const claims = session?.user as { id?: string; epoch?: number; sid?: string; authTime?: number } | undefined;
  const token = claims && { sub: claims.id, epoch: claims.epoch, sid: claims.sid, authTime: claims.authTime };
  const user = await userForSession(token);
  return user ? toCaller(user, "session", token) : null;
}
