import { db } from "../db/client";

// Last activity per workspace, kept in memory on every request and frame, written to the database at most
// every 30 s per workspace (idle culling reads it later).
const lastSeen = new Map<string, number>();
const lastWritten = new Map<string, number>();
const WRITE_EVERY_MS = 30_000;

export function touchActivity(workspaceId: string): void {
  const now = Date.now();
  lastSeen.set(workspaceId, now);
  if (now - (lastWritten.get(workspaceId) ?? 0) < WRITE_EVERY_MS) return;
  lastWritten.set(workspaceId, now);
  db()
    .workspace.updateMany({ where: { id: workspaceId }, data: { lastActivityAt: new Date(now) } })
    .catch(() => {});
}

export function lastActivity(workspaceId: string): Date | null {
  const t = lastSeen.get(workspaceId);
  return t ? new Date(t) : null;
}
