import { db } from "../db/client";

// What the idle culler reads about a workspace's use, besides its kernels and GPUs: the last request or frame through
// the proxy, terminal or SSH gateway (kept in memory on every one, written to the database at most every 30 s per
// workspace), and the terminal and SSH sessions open on it right now (an open session is use, however quiet).
const lastSeen = new Map<string, number>();
const lastWritten = new Map<string, number>();
const sessions = new Map<string, number>();
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

/** Counts a terminal or SSH session as open until the returned function is called (once); its end is activity too. */
export function holdSession(workspaceId: string): () => void {
  sessions.set(workspaceId, (sessions.get(workspaceId) ?? 0) + 1);
  touchActivity(workspaceId);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (sessions.get(workspaceId) ?? 1) - 1;
    if (n > 0) sessions.set(workspaceId, n);
    else sessions.delete(workspaceId);
    touchActivity(workspaceId);
  };
}

export function openSessions(workspaceId: string): number {
  return sessions.get(workspaceId) ?? 0;
}
