import { backend } from "../backend/backend";
import { log } from "../log";
import { reconcileAll, reconcileWorkspace } from "./reconcile-workspaces";

/**
 * Keeps workspace statuses true: follows the backend's events for Gantry's units (it reconnects by itself), and runs
 * a full reconcile on every (re)connect and every 30 s as a safety net.
 */
export function watchBackend(): () => void {
  const timers = new Map<string, NodeJS.Timeout>();
  const schedule = (workspaceId: string) => {
    clearTimeout(timers.get(workspaceId));
    timers.set(
      workspaceId,
      setTimeout(() => {
        timers.delete(workspaceId);
        reconcileWorkspace(workspaceId).catch((e) => log.warn("reconcile failed", { workspaceId, error: e }));
      }, 250),
    );
  };
  const full = () => reconcileAll().catch((e) => log.warn("full reconcile failed", { error: e }));
  const stopWatching = backend().watch((e) => schedule(e.workspaceId), full);
  const interval = setInterval(full, 30_000);
  interval.unref();
  return () => {
    clearInterval(interval);
    for (const t of timers.values()) clearTimeout(t);
    stopWatching();
  };
}
