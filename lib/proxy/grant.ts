import crypto from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { authSecret } from "../auth/secret";

// Two kinds of signed tokens, each with its own key derived from the auth secret:
// - a grant: the dashboard's one-time, 60-second pass for one user into one workspace (a redirect handshake);
// - a proxy session: the proxy's own cookie, scoped to that workspace's path.
const GRANT_TTL_S = 60;
export const PROXY_SESSION_TTL_S = 12 * 60 * 60;

function key(purpose: string): Uint8Array {
  return new Uint8Array(crypto.hkdfSync("sha256", authSecret(), "gantry", purpose, 32));
}

export type ProxyClaims = { workspaceId: string; userId: string };

async function sign(purpose: string, claims: ProxyClaims, ttl: number): Promise<string> {
  return new SignJWT({ wid: claims.workspaceId })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.userId)
    .setAudience(purpose)
    .setIssuedAt()
    .setJti(crypto.randomBytes(12).toString("base64url"))
    .setExpirationTime(`${ttl}s`)
    .sign(key(purpose));
}

async function verify(purpose: string, token: string | undefined | null): Promise<(ProxyClaims & { jti: string; exp: number }) | null> {
  if (!token || token.length > 2000) return null;
  try {
    const { payload } = await jwtVerify(token, key(purpose), { audience: purpose, algorithms: ["HS256"] });
    if (typeof payload.wid !== "string" || typeof payload.sub !== "string" || !payload.jti || !payload.exp) return null;
    return { workspaceId: payload.wid, userId: payload.sub, jti: payload.jti, exp: payload.exp };
  } catch {
    return null;
  }
}

// Grants are single-use: a grant seen once is remembered until it would have expired anyway.
const usedGrants = new Map<string, number>();

export function signGrant(claims: ProxyClaims): Promise<string> {
  return sign("gantry-proxy-grant", claims, GRANT_TTL_S);
}

export async function redeemGrant(token: string | null): Promise<ProxyClaims | null> {
  const claims = await verify("gantry-proxy-grant", token);
  if (!claims) return null;
  const now = Date.now() / 1000;
  for (const [jti, exp] of usedGrants) if (exp < now) usedGrants.delete(jti);
  if (usedGrants.has(claims.jti)) return null;
  usedGrants.set(claims.jti, claims.exp);
  return { workspaceId: claims.workspaceId, userId: claims.userId };
}

export function signProxySession(claims: ProxyClaims): Promise<string> {
  return sign("gantry-proxy-session", claims, PROXY_SESSION_TTL_S);
}

// A proxy session cookie is sent with every request into the workspace: its verified claims are kept, by the
// cookie's exact value, until it expires, so the signature is checked once per cookie instead of once per request.
// Only valid cookies are kept, and at most MAX_VERIFIED (oldest dropped first).
const verifiedSessions = new Map<string, ProxyClaims & { exp: number }>();
const MAX_VERIFIED = 10_000;

export async function verifyProxySession(token: string | undefined): Promise<ProxyClaims | null> {
  if (!token) return null;
  const known = verifiedSessions.get(token);
  if (known && known.exp > Date.now() / 1000) return { workspaceId: known.workspaceId, userId: known.userId };
  if (known) verifiedSessions.delete(token);
  const claims = await verify("gantry-proxy-session", token);
  if (!claims) return null;
  verifiedSessions.set(token, { workspaceId: claims.workspaceId, userId: claims.userId, exp: claims.exp });
  while (verifiedSessions.size > MAX_VERIFIED) verifiedSessions.delete(verifiedSessions.keys().next().value!);
  return { workspaceId: claims.workspaceId, userId: claims.userId };
}
