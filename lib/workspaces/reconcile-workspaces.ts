import { db } from "../db/client";
import { backend } from "../backend/backend";
import type { Observed } from "../backend/types";
import { recordAudit, systemActor } from "../audit/record-audit";
import { log } from "../log";
import { statusRule, type WorkspaceStatus } from "./lifecycle";
import { claimIsLive, correctStatus, recoverClaim } from "./run-action";
import { instanceStartedAt, lastSignOfLifeBefore } from "./instance";
import type { EndReason } from "./usage-ledger";

const REMOVED = "The container was removed outside Gantry. Start or reset the workspace to make a new one; files in /workspace are kept.";
export const RECONCILER = systemActor("reconciler");

type Correction = { status: WorkspaceStatus; message: string; endReason: EndReason };

/** What the backend's view of a settled workspace's unit means for it (pure, unit-tested). Null: nothing to change. */
export function observedStatus(current: WorkspaceStatus, unit: Observed | null, memoryGb: number): Correction | null {
  if (!unit) {
    if (current === "stopped") return null;
    return { status: "error", message: REMOVED, endReason: "crash" };
  }
  // Running while Gantry's record says it holds nothing: the caller stops it (its GPUs may be someone else's now).
  if (unit.running) return null;
  // A workspace the user stopped stays stopped, even if its container's last exit was an OOM kill.
  if (current === "stopped") return null;
  if (unit.oomKilled) {
    return { status: "error", message: `Out of memory: the workspace used more than its ${memoryGb} GB limit and was stopped.`, endReason: "oom" };
  }
  if (current === "error") return null;
  if (unit.exitCode === 0) return { status: "stopped", message: "The workspace's main process exited.", endReason: "exited" };
  return { status: "error", message: `The container stopped unexpectedly (exit code ${unit.exitCode}).`, endReason: "crash" };
}

/** When a unit that is gone stopped holding: Docker's own word, else (for an interval a dead Gantry opened) its last heartbeat. */
async function endTime(workspaceId: string, unit: Observed | null): Promise<Date> {
  if (unit?.finishedAt) return unit.finishedAt;
  const open = await db().usageInterval.findFirst({ where: { workspaceId, endedAt: null }, select: { startedAt: true } });
  if (open && open.startedAt < instanceStartedAt()) {
    const last = await lastSignOfLifeBefore();
    if (last) return new Date(Math.max(last.getTime(), open.startedAt.getTime()));
  }
  return new Date();
}

/** Brings one workspace in line with its unit, through the lifecycle runner. Claimed workspaces are left to their action. */
export async function reconcileWorkspace(id: string): Promise<void> {
  const ws = await db().workspace.findUnique({ where: { id }, include: { image: { select: { port: true } } } });
  if (!ws) return;
  const b = backend();
  if (statusRule(ws.status).transitional || ws.actionId) {
    // An action holds it; only one whose process is gone is taken over.
    if (!(await claimIsLive(ws))) await recoverClaim(id, RECONCILER);
    return;
  }
  let unit = ws.containerId ? await b.observe(ws.containerId) : null;
  if (!unit && !ws.containerId) {
    // A crash between creating a unit and recording it: found by its deterministic name, and only if it is ours.
    const byName = await b.observe(ws.containerName);
    if (byName?.workspaceId === ws.id) unit = byName;
  }
  const current = ws.status as WorkspaceStatus;
  if (unit?.running && !statusRule(current).holdsResources) {
    // Started outside Gantry: its GPUs may belong to someone else now. Gantry's record wins — but only the record as it
    // is now: a start that claimed the workspace since it was read above is starting this very container.
    const now = await db().workspace.findUnique({ where: { id }, select: { status: true, actionId: true } });
    if (!now || now.actionId || statusRule(now.status).holdsResources) return;
    log.warn("stopping a workspace container started outside Gantry", { workspaceId: id });
    await b.stop(unit.ref);
    await recordAudit(db(), { actor: RECONCILER, action: "workspace.container_stopped", targetType: "workspace", targetId: id, after: { container: unit.ref, why: "started outside Gantry" } });
    return;
  }
  if (unit?.running && current === "running") {
    const upstream = unit.address ? b.upstreamUrl(unit.address, ws.image.port) : null;
    if (upstream !== ws.upstream || unit.ref !== ws.containerId) {
      await correctStatus(id, "running", { status: "running", message: ws.statusMessage, containerId: unit.ref, upstream }, RECONCILER);
    }
    return;
  }
  // Settled and with no unit on record: nothing to learn (keeps e.g. a failed launch's message).
  if (!unit && !ws.containerId && !statusRule(current).holdsResources) return;
  if (!unit && ws.containerId && current === "stopped") {
    // A stopped workspace whose unit vanished keeps its status; only the stale id goes.
    await db().workspace.updateMany({ where: { id, status: current, actionId: null }, data: { containerId: null } });
    return;
  }
  const next = observedStatus(current, unit, ws.memoryGb);
  if (!next || (next.status === current && next.message === ws.statusMessage && (unit ? unit.ref === ws.containerId : !ws.containerId))) return;
  const changed = await correctStatus(
    id,
    current,
    { status: next.status, message: next.message, containerId: unit ? unit.ref : null, endedAt: await endTime(id, unit), endReason: next.endReason },
    RECONCILER,
  );
  if (changed) log.info("reconciled workspace", { workspaceId: id, from: current, to: next.status });
}

/**
 * Full pass: every workspace against the backend, each observed afresh when its turn comes (a list taken up front
 * would call a unit made a moment later "gone"). Units with Gantry's labels but no workspace record are left alone.
 */
export async function reconcileAll(): Promise<void> {
  const workspaces = await db().workspace.findMany({ select: { id: true, containerId: true, status: true, actionId: true } });
  for (const ws of workspaces) {
    if (!ws.containerId && !statusRule(ws.status).holdsResources && !ws.actionId) continue;
    try {
      await reconcileWorkspace(ws.id);
    } catch (e) {
      log.warn("reconcile failed", { workspaceId: ws.id, error: e });
    }
  }
}
