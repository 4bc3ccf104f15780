import type { NextRequest } from "next/server";
import { getToken } from "next-auth/jwt";
import { getServerSession } from "next-auth";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { authSecret } from "./secret";
import { authOptions } from "./auth-options";
import { userForToken } from "./api-tokens";

export type Role = "admin" | "user";
export type Caller = { id: string; email: string; name: string; role: Role; via: "session" | "token" };

type UserRow = { id: string; email: string; name: string; role: string; disabled: boolean; sessionEpoch: number };

function toCaller(user: UserRow, via: Caller["via"]): Caller {
  return { id: user.id, email: user.email, name: user.name, role: user.role === "admin" ? "admin" : "user", via };
}

// The session only names the user; role and disabled are read from the database on every request,
// so a demotion, a disable or a deletion takes effect on the very next request.
async function userForSession(sub: unknown, epoch: unknown): Promise<UserRow | null> {
  if (typeof sub !== "string") return null;
  const user = await db().user.findUnique({ where: { id: sub } });
  if (!user || user.disabled || user.sessionEpoch !== (typeof epoch === "number" ? epoch : 0)) return null;
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
  const user = await userForSession(jwt.sub, jwt.epoch);
  return user ? toCaller(user, "session") : null;
}

/** The signed-in user for server components and pages, or null. */
export async function currentUser(): Promise<Caller | null> {
  const session = await getServerSession(authOptions());
  const claims = session?.user as { id?: string; epoch?: number } | undefined;
  const user = await userForSession(claims?.id, claims?.epoch);
  return user ? toCaller(user, "session") : null;
}
