import crypto from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { authSecret } from "../auth/secret";
import { SESSION_MAX_AGE_S } from "../auth/session-revocation";

// Two kinds of signed tokens, each with its own key derived from the auth secret:
// - a grant: the dashboard's one-time, 60-second pass for one user into one workspace, bound to the browser that
//   asked for it (the hash of a nonce the proxy set as a cookie in that browser before sending it to the dashboard);
// - a proxy session: the proxy's own cookie, scoped to that workspace's path.
// Both carry the dashboard session they came from (its id, sign-in time and the user's session epoch), so a proxy
// session ends when that dashboard session does: sign-out, a password change, or its absolute lifetime.
const GRANT_TTL_S = 60;
export const PROXY_SESSION_TTL_S = SESSION_MAX_AGE_S;

function key(purpose: string): Uint8Array {
  return new Uint8Array(crypto.hkdfSync("sha256", authSecret(), "gantry", purpose, 32));
}

/** The dashboard session a proxy session stands on. */
export type DashboardSession = { sid: string; authTime: number; epoch: number };
export type ProxyClaims = { workspaceId: string; userId: string; session: DashboardSession };
export type GrantClaims = ProxyClaims & { browser: string };

type Verified = ProxyClaims & { jti: string; exp: number; browser?: string };

async function sign(purpose: string, claims: ProxyClaims & { browser?: string }, ttl: number): Promise<string> {
  const body: Record<string, unknown> = { wid: claims.workspaceId, sid: claims.session.sid, at: claims.session.authTime, ep: claims.session.epoch };
  if (claims.browser) body.bro = claims.browser;
  // Never beyond the dashboard session's own end.
  const exp = Math.min(Math.floor(Date.now() / 1000) + ttl, claims.session.authTime + SESSION_MAX_AGE_S);
  return new SignJWT(body)
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(claims.userId)
    .setAudience(purpose)
    .setIssuedAt()
    .setJti(crypto.randomBytes(12).toString("base64url"))
    .setExpirationTime(exp)
    .sign(key(purpose));
}

async function verify(purpose: string, token: string | undefined | null): Promise<Verified | null> {
  if (!token || token.length > 2000) return null;
  try {
    const { payload: p } = await jwtVerify(token, key(purpose), { audience: purpose, algorithms: ["HS256"] });
    if (typeof p.wid !== "string" || typeof p.sub !== "string" || !p.jti || !p.exp) return null;
    if (typeof p.sid !== "string" || typeof p.at !== "number" || typeof p.ep !== "number") return null;
    const claims: Verified = { workspaceId: p.wid, userId: p.sub, jti: p.jti, exp: p.exp, session: { sid: p.sid, authTime: p.at, epoch: p.ep } };
    if (typeof p.bro === "string") claims.browser = p.bro;
    return claims;
  } catch {
    return null;
  }
}

/** A fresh handshake nonce, set by the proxy as a cookie in the browser that is about to ask the dashboard. */
export function newBrowserNonce(): string {
  return crypto.randomBytes(24).toString("base64url");
}

/** What a grant records of the nonce: its hash, so the grant URL does not carry the cookie's value. */
export function browserBinding(nonce: string): string {
  return crypto.createHash("sha256").update(nonce).digest("base64url");
}

/** Whether this browser's nonce cookie is the one the grant was made for. */
export function sameBrowser(grant: { browser: string }, nonce: string | undefined): boolean {
  if (!nonce || nonce.length > 200) return false;
  const a = Buffer.from(browserBinding(nonce));
  const b = Buffer.from(grant.browser);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

// Grants are single-use: a grant seen once is remembered until it would have expired anyway.
const usedGrants = new Map<string, number>();

export function signGrant(claims: GrantClaims): Promise<string> {
  return sign("gantry-proxy-grant", claims, GRANT_TTL_S);
}

/** A grant's claims, checked but not used up (to decide whether this browser may redeem it). */
export async function readGrant(token: string | null): Promise<(GrantClaims & { jti: string; exp: number }) | null> {
  const claims = await verify("gantry-proxy-grant", token);
  if (!claims?.browser) return null;
  return { ...claims, browser: claims.browser };
}

/** Uses a grant up: true the first time, false for any replay. */
export function useGrant(grant: { jti: string; exp: number }): boolean {
  const now = Date.now() / 1000;
  for (const [jti, exp] of usedGrants) if (exp < now) usedGrants.delete(jti);
  if (usedGrants.has(grant.jti)) return false;
  usedGrants.set(grant.jti, grant.exp);
  return true;
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
  if (known && known.exp > Date.now() / 1000) return { workspaceId: known.workspaceId, userId: known.userId, session: known.session };
  if (known) verifiedSessions.delete(token);
  const claims = await verify("gantry-proxy-session", token);
  if (!claims) return null;
  verifiedSessions.set(token, { workspaceId: claims.workspaceId, userId: claims.userId, session: claims.session, exp: claims.exp });
  while (verifiedSessions.size > MAX_VERIFIED) verifiedSessions.delete(verifiedSessions.keys().next().value!);
  return { workspaceId: claims.workspaceId, userId: claims.userId, session: claims.session };
}
