import { db } from "../db/client";
import { backend } from "../backend/backend";
import { getSettings } from "../settings/settings";
import { recordAudit } from "../audit/record-audit";
import { subscribe } from "../events/bus";
import { AccessCache, type WorkspaceAccess } from "./access-cache";
import { perWorkspaceOrigins } from "./workspace-origin";
import { sessionExpired } from "../auth/session-revocation";
import { hashToken, isApiTokenShaped, userForTokenHash } from "../auth/api-tokens";
import type { DashboardSession, ProxyClaims } from "./grant";

export type ProxyTarget = {
  workspaceId: string;
  status: string;
  target: string | null;
  /** Identifies the upstream connection: the target and the container (and its start) behind it. */
  upstreamKey: string | null;
  /** When the container last started (ms since the epoch): its server may still be starting up. */
  startedAt: number | null;
  jupyterToken: string;
  viaAdmin: boolean;
};

async function loadWorkspace(id: string): Promise<WorkspaceAccess | null> {
  const ws = await db().workspace.findUnique({
    where: { id },
    select: { userId: true, status: true, jupyterToken: true, containerId: true, startedAt: true, upstream: true, image: { select: { port: true } } },
  });
  if (!ws) return null;
  let target: string | null = null;
  if (ws.status === "running" && ws.containerId) {
    // The backend's last observation, recorded by the runner and kept current by the reconciler; when there is none,
    // one observation per fill of this entry.
    if (ws.upstream) target = ws.upstream;
    else {
      const seen = await backend().observe(ws.containerId).catch(() => null);
      if (seen?.running && seen.address) target = backend().upstreamUrl(seen.address, ws.image.port);
    }
  }
  const instance = ws.containerId && `${ws.containerId}@${ws.startedAt?.getTime() ?? 0}`;
  return { ownerId: ws.userId, status: ws.status, jupyterToken: ws.jupyterToken, instance, target, startedAt: ws.startedAt?.getTime() ?? null };
}

// One cache per module graph (the custom server's proxy, Next's /open route): each listens to the one shared bus.
let cache: AccessCache | null = null;

function accessCache(): AccessCache {
  if (!cache) {
    const c = new AccessCache({
      workspace: loadWorkspace,
      user: (id) => db().user.findUnique({ where: { id }, select: { disabled: true, role: true, sessionEpoch: true } }),
      sessionRevoked: async (sid) => (await db().revokedSession.findUnique({ where: { sid }, select: { sid: true } })) !== null,
      tokenUser: async (hash) => (await userForTokenHash(hash))?.id ?? null,
      // A value stored before the setting required per-workspace origins (or before they were turned off) lets no one in.
      adminAccess: async () => (await getSettings()).allowAdminWorkspaceAccess && perWorkspaceOrigins(),
    });
    subscribe((event) => c.handle(event));
    cache = c;
  }
  return cache;
}

/** Forgets what is known about a workspace, e.g. when its upstream stopped answering. */
export function forgetWorkspace(workspaceId: string): void {
  cache?.workspaces.drop(workspaceId);
}

/**
 * May this user reach this workspace through the proxy? The owner may; an admin only when the admin setting
 * allows it (and that use is audited). Anyone else, a disabled user, or a deleted workspace: null, i.e. 404.
 * `fresh` reads past the cache (and refills it): for minting a new proxy session, which is rare.
 */
export async function proxyAccess(workspaceId: string, userId: string, opts: { fresh?: boolean } = {}): Promise<ProxyTarget | null> {
  const c = accessCache();
  if (opts.fresh) {
    c.workspaces.drop(workspaceId);
    c.users.drop(userId);
  }
  const [ws, user] = await Promise.all([c.workspace(workspaceId), c.user(userId)]);
  if (!ws || !user || user.disabled) return null;
  let viaAdmin = false;
  if (ws.ownerId !== userId) {
    if (user.role !== "admin" || !(await c.adminAccess())) return null;
    viaAdmin = true;
  }
  const target = ws.status === "running" ? ws.target : null;
  return {
    workspaceId,
    status: ws.status,
    target,
    upstreamKey: target && `${ws.instance} ${target}`,
    startedAt: ws.startedAt ?? null,
    jupyterToken: ws.jupyterToken,
    viaAdmin,
  };
}

/**
 * Whether the dashboard session a proxy session (or a grant) came from still stands: not signed out, not ended by a
 * password change (the user's session epoch), not past its absolute lifetime. The user's other checks (exists, not
 * disabled, owner or admin let in) are proxyAccess's.
 */
export async function dashboardSessionStands(userId: string, session: DashboardSession, opts: { fresh?: boolean } = {}): Promise<boolean> {
  const c = accessCache();
  if (opts.fresh) c.sessions.drop(`${userId} ${session.sid}`);
  if (sessionExpired(session)) return false;
  const [user, revoked] = await Promise.all([c.user(userId), c.sessionRevoked(userId, session.sid)]);
  return user !== null && user.sessionEpoch === session.epoch && !revoked;
}

/** proxyAccess for the holder of a proxy session: null as soon as its dashboard session has ended. */
export async function proxySessionAccess(claims: ProxyClaims, opts: { fresh?: boolean } = {}): Promise<ProxyTarget | null> {
  const access = await proxyAccess(claims.workspaceId, claims.userId, opts);
  if (!access || !(await dashboardSessionStands(claims.userId, claims.session, opts))) return null;
  return access;
}

/**
 * For a Jupyter client that presents the owner's Gantry API token instead of a proxy cookie: the workspace, when
 * the token is valid and belongs to its owner (an admin's token opens only the admin's own workspaces); null for
 * anyone else's workspace (a 404, as everywhere); "invalid_token" for an unknown or revoked token or a disabled user.
 */
export async function tokenAccess(workspaceId: string, token: string): Promise<ProxyTarget | "invalid_token" | null> {
  if (!isApiTokenShaped(token)) return "invalid_token";
  const userId = await accessCache().tokenUser(hashToken(token));
  if (!userId) return "invalid_token";
  const access = await proxyAccess(workspaceId, userId);
  return access && !access.viaAdmin ? access : null;
}

export async function auditAdminAccess(workspaceId: string, admin: { id: string; email: string }): Promise<void> {
  await recordAudit(db(), { actor: admin, action: "workspace.admin_open", targetType: "workspace", targetId: workspaceId });
}
