import { db } from "../db/client";
import { backend } from "../backend/backend";
import { getSettings } from "../settings/settings";
import { recordAudit } from "../audit/record-audit";

export type ProxyTarget = { workspaceId: string; status: string; target: string | null; jupyterToken: string; viaAdmin: boolean };

/**
 * May this user reach this workspace through the proxy? The owner may; an admin only when the admin setting
 * allows it (and that use is audited). Anyone else, a disabled user, or a deleted workspace: null, i.e. 404.
 */
export async function proxyAccess(workspaceId: string, userId: string): Promise<ProxyTarget | null> {
  const [ws, user] = await Promise.all([
    db().workspace.findUnique({ where: { id: workspaceId }, include: { image: { select: { port: true } } } }),
    db().user.findUnique({ where: { id: userId } }),
  ]);
  if (!ws || !user || user.disabled) return null;
  let viaAdmin = false;
  if (ws.userId !== user.id) {
    if (user.role !== "admin" || !(await getSettings()).allowAdminWorkspaceAccess) return null;
    viaAdmin = true;
  }
  let target: string | null = null;
  if (ws.status === "running" && ws.containerId) {
    // The backend's last observation, recorded by the runner and kept current by the reconciler.
    if (ws.upstream) target = ws.upstream;
    else {
      const seen = await backend().observe(ws.containerId).catch(() => null);
      if (seen?.running && seen.address) target = backend().upstreamUrl(seen.address, ws.image.port);
    }
  }
  return { workspaceId: ws.id, status: ws.status, target, jupyterToken: ws.jupyterToken, viaAdmin };
}

export async function auditAdminAccess(workspaceId: string, admin: { id: string; email: string }): Promise<void> {
  await recordAudit(db(), { actor: admin, action: "workspace.admin_open", targetType: "workspace", targetId: workspaceId });
}
