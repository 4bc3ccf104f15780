import { db } from "../db/client";
import { inspectContainer, listManagedContainers, stopContainer, type ContainerState } from "../docker/containers";
import { releaseGpus } from "../quotas/reserve-resources";
import { log } from "../log";
import { isInFlight } from "./in-flight";
import { notifyWorkspace } from "./notify";
import { ACTIVE_STATUSES, type WorkspaceStatus } from "./workspace-schemas";

const REMOVED = "The container was removed outside Gantry. Start or reset the workspace to make a new one; files in /workspace are kept.";

type Observed = { status: WorkspaceStatus; message: string; releases: boolean };

/** What Docker's view of a container means for its workspace (pure, unit-tested). */
export function observedStatus(current: WorkspaceStatus, container: ContainerState | null, memoryGb: number): Observed | null {
  if (!container) {
    if (current === "stopped") return null;
    if (current === "error") return { status: "error", message: REMOVED, releases: true };
    return { status: "error", message: REMOVED, releases: true };
  }
  if (container.running) {
    // A stopped workspace's container started behind Gantry's back holds no allocation: the caller stops it.
    return current === "running" || current === "stopped" || current === "error" ? null : { status: "running", message: "", releases: false };
  }
  // A workspace the user stopped stays stopped, even if its container's last exit was an OOM kill.
  if (current === "stopped") return null;
  if (container.oomKilled) {
    return { status: "error", message: `Out of memory: the workspace used more than its ${memoryGb} GB limit and was stopped.`, releases: true };
  }
  if (current === "error") return null;
  if (container.exitCode === 0) return { status: "stopped", message: "The workspace's main process exited.", releases: true };
  return { status: "error", message: `The container stopped unexpectedly (exit code ${container.exitCode}).`, releases: true };
}

/** Brings one workspace's status in line with its container. Leaves workspaces alone while an action runs on them. */
export async function reconcileWorkspace(id: string, known?: ContainerState | null): Promise<void> {
  if (isInFlight(id)) return;
  const ws = await db().workspace.findUnique({ where: { id } });
  if (!ws) return;
  let container = known === undefined ? (ws.containerId ? await inspectContainer(ws.containerId) : null) : known;
  // A crash between creating a container and recording it: adopt it by its labels and deterministic name.
  if (!container && !ws.containerId) {
    const byName = await inspectContainer(ws.containerName);
    if (byName?.workspaceId === ws.id) {
      container = byName;
      await db().workspace.update({ where: { id }, data: { containerId: byName.id, containerGpus: JSON.stringify(byName.gpuUuids) } });
    }
  }
  const current = ws.status as WorkspaceStatus;
  if (container?.running && (current === "stopped" || current === "error")) {
    // Started outside Gantry: its GPUs may belong to someone else now. Gantry's record wins.
    log.warn("stopping a workspace container started outside Gantry", { workspaceId: id });
    await stopContainer(container.id);
    return;
  }
  // Transitional states with no action in flight were interrupted (Gantry restarted mid-action).
  const effective: WorkspaceStatus = ["starting", "stopping", "resetting", "pulling"].includes(current) ? "running" : current;
  const next = observedStatus(effective, container, ws.memoryGb) ?? (effective !== current ? { status: "running" as const, message: "", releases: false } : null);
  // Settled and with no container on record: nothing to learn from Docker (keeps e.g. a failed launch's message).
  if (!container && !ws.containerId && (current === "stopped" || current === "error")) return;
  // A stopped workspace whose container vanished keeps its status; only the stale container id goes.
  if (!container && ws.containerId && current === "stopped") {
    await db().workspace.update({ where: { id }, data: { containerId: null } });
    return;
  }
  if (!next || (next.status === current && next.message === ws.statusMessage && (container ? true : !ws.containerId))) return;
  if (isInFlight(id)) return;
  await db().$transaction(async (tx) => {
    if (next.releases) await releaseGpus(tx, id);
    await tx.workspace.update({
      where: { id },
      data: { status: next.status, statusMessage: next.message, containerId: container ? container.id : null },
    });
  });
  log.info("reconciled workspace", { workspaceId: id, from: current, to: next.status });
  await notifyWorkspace(id);
}

/** Full pass: every workspace against Docker. Containers with Gantry's labels but no workspace record are left alone. */
export async function reconcileAll(): Promise<void> {
  const containers = await listManagedContainers();
  const byId = new Map(containers.map((c) => [c.id, c]));
  const workspaces = await db().workspace.findMany({ select: { id: true, containerId: true, status: true } });
  for (const ws of workspaces) {
    if (!ws.containerId && !ACTIVE_STATUSES.includes(ws.status as WorkspaceStatus)) continue;
    const listed = ws.containerId ? byId.get(ws.containerId) : undefined;
    try {
      await reconcileWorkspace(ws.id, listed || !ws.containerId ? undefined : null);
    } catch (e) {
      log.warn("reconcile failed", { workspaceId: ws.id, error: e });
    }
  }
}
