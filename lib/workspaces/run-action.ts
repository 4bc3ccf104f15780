import crypto from "node:crypto";
import { db, type Tx } from "../db/client";
import { ApiError, isApiError, notFound } from "../errors";
import { recordAudit, type Actor } from "../audit/record-audit";
import { backend } from "../backend/backend";
import { describeFailure, engineUnavailable } from "../backend/errors";
import { log } from "../log";
import { observeAction } from "../metrics/metrics";
import { hostCapacity } from "../quotas/host-capacity";
import { config } from "../config";
import { allocateGpus, checkAndPickResources } from "../quotas/reserve-resources";
import { ACTION_RULES, decide, reservesOnClaim, STATUS_RULES, statusRule, type Action, type WorkspaceStatus } from "./lifecycle";
import { closeUsage, openUsage, type EndReason } from "./usage-ledger";
import { instanceId, lastSignOfLifeBefore, liveClaims, ownerIsGone } from "./instance";
import { notifyWorkspace, notifyWorkspaceDeleted, publishWorkspace } from "./notify";
import { toWorkspaceView, type WorkspaceView } from "./workspace-view";
import { loadWorkspace, updateWorkspace, type WorkspaceRow } from "./workspace-rows";
import { inScope } from "./find-workspace";

// The lifecycle runner: the one way a workspace changes. Every action (launch, start, stop, reset, delete, an admin's
// force-stop, deleting a user, the reconciler's corrections) goes:
//   claim (one transaction: check the lifecycle table, write the transitional status and a claim with a lease,
//          reserve resources, audit) → backend calls (the verb's work) → finish (one transaction: final status,
//          resources released, usage ledger) or roll back → tell dashboards.
// The claim is a row-level lock that works across requests and processes: only a workspace in a stable status can be
// claimed, and the claim is taken with a conditional UPDATE inside BEGIN IMMEDIATE.

const LEASE_MS = 30_000;
const TICK_MS = 500;
const RENEW_EVERY_TICKS = 20;

export class ActionCancelled extends Error {
  constructor(readonly why: "cancelled" | "gone") {
    super(why === "gone" ? "The workspace was deleted while the action ran." : "The action was cancelled.");
  }
}

export type Claim = { id: string; action: Action; from: WorkspaceStatus | null; fromMessage?: string };

/** What a verb's work can do while it holds the claim. */
export type ActionContext = {
  ws: WorkspaceRow;
  /** The GPUs the workspace holds for this action (reserved by the claim, or kept from before). */
  gpuUuids: string[];
  /** Aborted when a cancel is requested (deleting the user); long backend calls (pulls) take it. */
  signal: AbortSignal;
  /**
   * Throws ActionCancelled if a cancel has been noticed (the action's timer polls for it twice a second). Cheap, so it
   * sits before every irreversible step; the final write checks the database itself, so a late cancel still wins.
   */
  checkpoint(): void;
  /** A status within the action (pulling → starting), written and shown at once. */
  phase(status: WorkspaceStatus, message?: string): Promise<void>;
  /** Records a unit the action created, at once, so a crash right after leaves a record the reconciler can act on. */
  created(ref: string, fields: { gpuUuids: string[]; imageDigest: string; jupyterToken: string; imageRef?: string }): Promise<void>;
  /** Records that the workspace's previous unit is gone (a reset removed it). */
  removedPrevious(): Promise<void>;
};

/** What the work hands back: the fields of the final status. */
export type Outcome = { statusMessage?: string; upstream?: string | null; startedAt?: Date; endReason?: EndReason };

export type RunOptions = {
  action: Action;
  actor: Actor;
  /** Ownership as part of the claim's query (scopeFor): another user's workspace is simply not found (404). */
  scope?: { userId?: string };
  /**
   * A condition the claim itself checks (with the status): the idle culler stops only while the warning it gave still
   * stands, so a "Keep running" a moment before wins. Not met: 404, nothing changed.
   */
  guard?: { idleStopAt?: Date };
  /** Detail for the audit event (before/after). */
  audit?: { before?: unknown; after?: unknown };
  /** Wait out a transition in progress, cancelling a launch/start/reset, instead of answering 409 (deleting a user). */
  cancelInFlight?: boolean;
  /** Return right after the claim (with the transitional view); the work goes on in the background. */
  background?: boolean;
  work: (ctx: ActionContext) => Promise<Outcome>;
  /** Runs once the action has succeeded, without holding up its answer. */
  after?: () => void;
};

function newClaim(action: Action, from: WorkspaceStatus | null): Claim {
  return { id: crypto.randomUUID(), action, from };
}

function claimFields(claim: Claim) {
  return { action: claim.action, actionId: claim.id, actionOwner: instanceId(), actionLeaseUntil: new Date(Date.now() + LEASE_MS), cancelRequested: false };
}

const SETTLED = { action: null, actionId: null, actionOwner: null, actionLeaseUntil: null, cancelRequested: false } as const;
/** No idle or budget warning out, no "Keep running" counted. */
export const IDLE_CLEARED = { idleStopAt: null, idleStopReason: null, idleSnoozedAt: null, idleSnoozes: 0 } as const;

/**
 * Refuses up front (503, nothing changed) when the engine does not answer, before any state is touched. An engine
 * that is down refuses the connection at once; one that is only slow (a busy host: its ping took over 2 s under
 * the load bench) gets the same patience as every other Docker call, rather than being reported unreachable.
 */
export async function requireBackend(): Promise<void> {
  if (!(await backend().ping(config.dockerTimeoutMs))) throw engineUnavailable();
}

/** Runs an action on an existing workspace through the lifecycle. Returns the workspace as its owner was last told. */
export async function runAction(workspaceId: string, opts: RunOptions): Promise<WorkspaceView | null> {
  await requireBackend();
  const host = ACTION_RULES[opts.action].final && STATUS_RULES[ACTION_RULES[opts.action].final!].holdsResources ? await hostCapacity() : null;
  const claimed = await claimExisting(workspaceId, opts, host);
  if (claimed.kind === "no-op") return claimed.view;
  return execute(claimed.ws, claimed.claim, claimed.gpuUuids, opts);
}

/** The run's scope (ownership) and guard, checked on the row it read. */
function meetsConditions(ws: WorkspaceRow, opts: RunOptions): boolean {
  if (!inScope(ws, opts.scope)) return false;
  if (opts.guard?.idleStopAt !== undefined && ws.idleStopAt?.getTime() !== opts.guard.idleStopAt.getTime()) return false;
  return true;
}

type Claimed = { kind: "claimed"; ws: WorkspaceRow; claim: Claim; gpuUuids: string[] } | { kind: "no-op"; view: WorkspaceView };

async function claimExisting(id: string, opts: RunOptions, host: Awaited<ReturnType<typeof hostCapacity>> | null): Promise<Claimed> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const result = await db().$transaction(async (tx) => {
      // Ownership and the guard are checked on the row read inside the claim's transaction: BEGIN IMMEDIATE holds the
      // write lock against other processes, and this process's other transactions wait for the adapter's mutex (its
      // writers of idleStopAt, the culler and "Keep running", use transactions), so nothing changes the row between
      // this read and the claim's write; as good as putting them in the query.
      const ws = await loadWorkspace(id, tx);
      if (!ws || !meetsConditions(ws, opts)) throw notFound("No such workspace.");
      const decision = decide(opts.action, ws.status);
      if (decision.kind === "no-op") return { kind: "no-op" as const, ws };
      if (decision.kind === "refuse") {
        if (opts.cancelInFlight && statusRule(ws.status).transitional) {
          if (ws.action !== "stop" && ws.action !== "delete" && !ws.cancelRequested) {
            await tx.workspace.updateMany({ where: { id, actionId: ws.actionId }, data: { cancelRequested: true } });
          }
          return { kind: "wait" as const };
        }
        throw new ApiError("conflict", decision.message, { status: ws.status });
      }
      const from = ws.status as WorkspaceStatus;
      const claim = { ...newClaim(opts.action, from), fromMessage: ws.statusMessage };
      const rule = ACTION_RULES[opts.action];
      // A conditional UPDATE, and the row as read a moment ago in this same transaction with what it wrote. updatedAt
      // is written explicitly so that the row handed on (and published) carries exactly the stored one.
      const claimed = { status: rule.transitional, statusMessage: "", ...claimFields(claim), updatedAt: new Date() };
      const count = await updateWorkspace(tx, { id, status: from, actionId: null }, claimed);
      if (count === 0) throw new ApiError("conflict", "Another action on this workspace started a moment ago; try again.");
      let row: WorkspaceRow = { ...ws, ...claimed };
      let gpuUuids = ws.allocations.map((a) => a.gpuUuid);
      if (reservesOnClaim(opts.action, from)) {
        const picked = await checkAndPickResources(
          tx,
          { userId: ws.userId, workspaceId: id, gpus: ws.gpus, memoryGb: ws.memoryGb, cpus: ws.cpus, preferredGpus: JSON.parse(ws.containerGpus) },
          host,
        );
        await allocateGpus(tx, id, ws.userId, picked.gpuUuids);
        gpuUuids = picked.gpuUuids;
        row = (await loadWorkspace(id, tx))!;
      }
      return { kind: "claimed" as const, ws: row, claim, gpuUuids };
    });
    if (result.kind === "no-op") return { kind: "no-op", view: toWorkspaceView(result.ws) };
    if (result.kind === "claimed") {
      liveClaims().add(result.claim.id);
      return { kind: "claimed", ws: result.ws, claim: result.claim, gpuUuids: result.gpuUuids };
    }
    if (Date.now() > deadline) throw new ApiError("conflict", "Another action on this workspace did not finish within two minutes; try again.");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A launch: the workspace row is made by the claim itself (with resources reserved and the audit event), in the
 * status the lifecycle gives a launch, or "pulling" when the image must be fetched first.
 */
export async function runLaunch(
  create: (tx: Tx, claim: Record<string, unknown>) => Promise<{ id: string; gpuUuids: string[] }>,
  opts: Omit<RunOptions, "action">,
): Promise<WorkspaceView> {
  const claim = newClaim("launch", null);
  const made = await db().$transaction((tx) => create(tx, claimFields(claim)));
  liveClaims().add(claim.id);
  const ws = (await loadWorkspace(made.id))!;
  return (await execute(ws, claim, made.gpuUuids, { ...opts, action: "launch" }))!;
}

async function execute(ws: WorkspaceRow, claim: Claim, gpuUuids: string[], opts: RunOptions): Promise<WorkspaceView | null> {
  const transitional = publishWorkspace(ws);
  const work = perform(ws, claim, gpuUuids, opts);
  if (opts.background) {
    work.catch(() => {});
    return transitional;
  }
  return work;
}

async function perform(ws: WorkspaceRow, claim: Claim, gpuUuids: string[], opts: RunOptions): Promise<WorkspaceView | null> {
  const rule = ACTION_RULES[claim.action];
  const controller = new AbortController();
  let createdRef: string | null = null;
  let previousRemoved = false;
  let ticks = 0;
  let cancelled = false;
  // One timer per action: notices a cancel request (and aborts a pull), and renews the lease while the work runs.
  const timer = setInterval(() => {
    ticks++;
    const renew = ticks % RENEW_EVERY_TICKS === 0;
    const q = renew
      ? db().workspace.updateMany({ where: { id: ws.id, actionId: claim.id }, data: { actionLeaseUntil: new Date(Date.now() + LEASE_MS) } }).then(() => undefined)
      : Promise.resolve();
    q.then(() => db().workspace.findUnique({ where: { id: ws.id }, select: { actionId: true, cancelRequested: true } }))
      .then((row) => {
        if (!row || row.actionId !== claim.id || row.cancelRequested) {
          cancelled = true;
          controller.abort();
        }
      })
      .catch(() => {});
  }, TICK_MS);
  timer.unref();

  const ctx: ActionContext = {
    ws,
    gpuUuids,
    signal: controller.signal,
    checkpoint() {
      if (cancelled) throw new ActionCancelled("cancelled");
    },
    async phase(status, message = "") {
      await updateWorkspace(db(), { id: ws.id, actionId: claim.id }, { status, statusMessage: message });
      await notifyWorkspace(ws.id);
    },
    async created(ref, fields) {
      createdRef = ref;
      await updateWorkspace(db(), { id: ws.id, actionId: claim.id }, {
        containerId: ref,
        containerGpus: JSON.stringify(fields.gpuUuids),
        imageDigest: fields.imageDigest,
        jupyterToken: fields.jupyterToken,
        ...(fields.imageRef ? { imageRef: fields.imageRef } : {}),
      });
    },
    async removedPrevious() {
      previousRemoved = true;
      await updateWorkspace(db(), { id: ws.id, actionId: claim.id }, { containerId: null, upstream: null });
    },
  };

  let view: WorkspaceView | null;
  // Every action's duration, from holding the claim to its final status or rollback (gantry_workspace_*_duration_seconds).
  const started = performance.now();
  let succeeded = false;
  try {
    try {
      const outcome = await opts.work(ctx);
      view = await finish(ws, claim, outcome, opts, gpuUuids);
      succeeded = true;
    } catch (e) {
      const cancel = e instanceof ActionCancelled ? e : controller.signal.aborted ? new ActionCancelled("cancelled") : null;
      // Translated once, here: the status message, the answer and the log line share one reference.
      const message = cancel ? "" : describeFailure(e, `${rule.verb} the workspace`, { workspaceId: ws.id, action: claim.action });
      await rollback(ws, claim, { error: cancel ?? e, message, createdRef, previousRemoved }, opts.actor).catch((err) =>
        log.error("rollback failed", { workspaceId: ws.id, error: err }),
      );
      if (cancel) {
        await notifyWorkspace(ws.id);
        throw new ApiError("conflict", `The ${claim.action} was cancelled: the workspace is being deleted.`);
      }
      if (isApiError(e) && e.code === "docker_unavailable") {
        // The claim had been taken, so something may have changed: say so rather than "nothing was changed".
        throw new ApiError("docker_unavailable", `The Docker engine stopped answering during the ${claim.action}; the workspace's status says where it was left. Try again once the engine is back.`);
      }
      if (rule.onFailure === "restore" || failedBeforeChange(claim, { createdRef, previousRemoved })) {
        if (isApiError(e)) throw e;
        throw new ApiError("conflict", `${message} It is as it was; try again.`);
      }
      view = await notifyWorkspace(ws.id);
    }
  } finally {
    // The lease is renewed until the very last write, and the claim stays known as live in this process until then.
    clearInterval(timer);
    liveClaims().delete(claim.id);
    observeAction(claim.action, succeeded ? "success" : "failure", (performance.now() - started) / 1000);
  }
  opts.after?.();
  return view;
}

/** A reset that failed before it removed the old unit (e.g. its new image could not be pulled) changed nothing. */
function failedBeforeChange(claim: Claim, f: { createdRef: string | null; previousRemoved: boolean }): boolean {
  return claim.action === "reset" && !f.createdRef && !f.previousRemoved;
}

/** Writes the final status: one transaction for status, resources and the usage ledger. */
async function finish(ws: WorkspaceRow, claim: Claim, outcome: Outcome, opts: RunOptions, gpuUuids: string[]): Promise<WorkspaceView | null> {
  const rule = ACTION_RULES[claim.action];
  const now = new Date();
  // The audit event says what was done, in the transaction that did it (a launch records its request when it claims).
  const audit = (tx: Tx) =>
    claim.action === "launch"
      ? Promise.resolve()
      : recordAudit(tx, {
          actor: opts.actor,
          action: `workspace.${claim.action}`,
          targetType: "workspace",
          targetId: ws.id,
          before: opts.audit?.before ?? { id: ws.id, name: ws.name, status: claim.from },
          after: opts.audit?.after ?? (rule.final ? { status: rule.final, ...(STATUS_RULES[rule.final].holdsResources ? { gpuUuids } : {}) } : undefined),
        });
  if (rule.final === null) {
    await db().$transaction(async (tx) => {
      await closeUsage(tx, ws.id, now, outcome.endReason ?? "deleted");
      await tx.workspace.deleteMany({ where: { id: ws.id, actionId: claim.id } });
      await audit(tx);
    });
    notifyWorkspaceDeleted(ws.userId, ws.id);
    return null;
  }
  const final = rule.final;
  const holds = STATUS_RULES[final].holdsResources;
  const row = await db().$transaction(async (tx) => {
    // Conditional on the claim and on no cancel having been asked for: one statement decides. Then the row, read in the
    // same transaction.
    const count = await updateWorkspace(tx, { id: ws.id, actionId: claim.id, cancelRequested: false }, {
      status: final,
      statusMessage: outcome.statusMessage ?? "",
      ...SETTLED,
      // A settled action starts the idle clock afresh: no warning out, no "Keep running" counted. A used-up budget's
      // warning stays while the workspace keeps its GPUs (a reset must not put its stop off).
      ...(holds && ws.idleStopReason === "budget" ? {} : IDLE_CLEARED),
      ...(outcome.upstream !== undefined ? { upstream: outcome.upstream } : {}),
      ...(outcome.startedAt ? { startedAt: outcome.startedAt } : {}),
      ...(holds ? {} : { upstream: null }),
    });
    if (count === 0) {
      const now = await tx.workspace.findUnique({ where: { id: ws.id }, select: { actionId: true } });
      throw new ActionCancelled(now?.actionId === claim.id ? "cancelled" : "gone");
    }
    const updated = (await loadWorkspace(ws.id, tx))!;
    await audit(tx);
    const reason: EndReason = claim.action === "reset" ? "reset" : (outcome.endReason ?? "stopped");
    // A reset ends one interval and begins the next at the same instant.
    if (!holds || claim.action === "reset") await closeUsage(tx, ws.id, holds ? (outcome.startedAt ?? now) : now, reason);
    if (holds) {
      await openUsage(tx, ws.id, outcome.startedAt ?? now, updated);
      return updated;
    }
    await tx.gpuAllocation.deleteMany({ where: { workspaceId: ws.id } });
    return { ...updated, allocations: [] };
  });
  return publishWorkspace(row);
}

/** `message`: the failure as its user reads it (describeFailure); empty for a cancel. */
type Failure = { error: unknown; message: string; createdRef: string | null; previousRemoved: boolean };

/**
 * Backs an action out. A stop or delete that failed puts the status back (nothing changed in the backend that matters:
 * the workspace still holds its resources). A launch, start or reset that failed or was cancelled removes the unit it
 * made, releases the resources and ends in "error" (or "stopped" when cancelled). A reset that failed before it removed
 * the old unit puts the status back too, releasing only what its own claim reserved.
 */
async function rollback(ws: WorkspaceRow, claim: Claim, f: Failure, actor: Actor): Promise<void> {
  const rule = ACTION_RULES[claim.action];
  const cancelled = f.error instanceof ActionCancelled;
  const gone = cancelled && (f.error as ActionCancelled).why === "gone";
  const b = backend();
  const unchanged = failedBeforeChange(claim, f);
  if ((rule.onFailure === "restore" || unchanged) && !cancelled) {
    const from = claim.from ?? "error";
    const message = unchanged ? `The reset failed and changed nothing: ${f.message}` : (claim.fromMessage ?? "");
    await db().$transaction(async (tx) => {
      const { count } = await tx.workspace.updateMany({ where: { id: ws.id, actionId: claim.id }, data: { status: from, statusMessage: message, ...SETTLED } });
      // What this claim reserved (a reset of a stopped workspace) goes back; what the workspace held before stays.
      if (count > 0 && !STATUS_RULES[from].holdsResources) await tx.gpuAllocation.deleteMany({ where: { workspaceId: ws.id } });
    });
    await notifyWorkspace(ws.id);
    return;
  }
  // The unit this action made (or started) must not run on without the resources it was given.
  let unitLeft: string | null = null;
  const unit = f.createdRef ?? (claim.action === "start" ? ws.containerId : null);
  if (unit) {
    try {
      if (f.createdRef) await b.remove(unit);
      else await b.stop(unit);
    } catch (e) {
      unitLeft = unit;
      log.warn("could not clean up after a failed action; the reconciler will", { workspaceId: ws.id, error: e });
    }
  }
  if (gone) {
    // Deleted under the action (its user was deleted): nothing is left to write.
    if (unitLeft) await b.remove(unitLeft).catch(() => {});
    return;
  }
  const message = cancelled ? `Cancelled: the ${claim.action} was stopped before it finished.` : f.message;
  const status: WorkspaceStatus = cancelled ? "stopped" : "error";
  await db().$transaction(async (tx) => {
    const { count } = await tx.workspace.updateMany({
      where: { id: ws.id, actionId: claim.id },
      data: {
        status,
        statusMessage: message,
        upstream: null,
        ...SETTLED,
        // A unit that could not be removed (the engine went away) stays on record for the reconciler.
        ...(f.createdRef && !unitLeft ? { containerId: null } : {}),
        ...(unitLeft ? { containerId: unitLeft } : {}),
      },
    });
    // The claim is no longer ours (taken over after this process stalled past its lease): its new holder settles it.
    if (count === 0) return;
    await tx.gpuAllocation.deleteMany({ where: { workspaceId: ws.id } });
    await closeUsage(tx, ws.id, new Date(), cancelled ? "stopped" : "error");
    await recordAudit(tx, { actor, action: `workspace.${claim.action}_${cancelled ? "cancelled" : "failed"}`, targetType: "workspace", targetId: ws.id, before: { status: claim.from }, after: { status, message } });
  });
}

/** Is the claim on this row held by an action that is still alive (here or in another Gantry process)? */
export async function claimIsLive(row: { actionId: string | null; actionOwner: string | null; actionLeaseUntil: Date | null }): Promise<boolean> {
  if (!row.actionId) return false;
  // Our own claims are known exactly, whatever the lease says (a Docker call can outlast it).
  if (row.actionOwner === instanceId()) return liveClaims().has(row.actionId);
  if (!row.actionLeaseUntil || row.actionLeaseUntil.getTime() < Date.now()) return false;
  return !(await ownerIsGone(row.actionOwner));
}

/**
 * A correction from the backend's truth, through the runner: the workspace in `expected` (stable, unclaimed) moves to
 * `next` in one transaction, releasing resources and closing its usage interval when the new status holds none.
 */
export async function correctStatus(
  id: string,
  expected: WorkspaceStatus,
  next: { status: WorkspaceStatus; message: string; containerId: string | null; upstream?: string | null; endedAt?: Date; endReason?: EndReason },
  actor: Actor,
): Promise<boolean> {
  const holds = STATUS_RULES[next.status].holdsResources;
  const changed = await db().$transaction(async (tx) => {
    const { count } = await tx.workspace.updateMany({
      where: { id, status: expected, actionId: null },
      data: { status: next.status, statusMessage: next.message, containerId: next.containerId, ...(holds ? {} : { upstream: null }), ...(next.upstream !== undefined ? { upstream: next.upstream } : {}) },
    });
    if (count === 0) return false;
    if (!holds) {
      await tx.gpuAllocation.deleteMany({ where: { workspaceId: id } });
      await closeUsage(tx, id, next.endedAt ?? new Date(), next.endReason ?? "crash");
    }
    if (expected !== next.status) {
      await recordAudit(tx, { actor, action: "workspace.reconcile", targetType: "workspace", targetId: id, before: { status: expected }, after: { status: next.status, message: next.message } });
    }
    return true;
  });
  if (changed) await notifyWorkspace(id);
  return changed;
}

/**
 * Takes over a claim whose process is gone (Gantry was killed mid-action) and settles the workspace from the backend's
 * truth: a stop or delete is finished; a launch, start or reset whose unit runs with exactly the workspace's GPUs is
 * kept as running, anything else is cleaned up and ends in "error" with its resources released.
 */
export async function recoverClaim(id: string, actor: Actor): Promise<void> {
  const row = await loadWorkspace(id);
  if (!row || (!row.actionId && !statusRule(row.status).transitional)) return;
  if (await claimIsLive(row)) return;
  // A row from before claims existed names no action: its status says which one it was.
  const interrupted = (row.action as Action | null) ?? INTERRUPTED_BY_STATUS[row.status] ?? "start";
  const claim = newClaim(interrupted, null);
  const { count } = await db().workspace.updateMany({ where: { id, actionId: row.actionId }, data: claimFields(claim) });
  if (count === 0) return;
  liveClaims().add(claim.id);
  try {
    await settleInterrupted(row, claim, interrupted, actor);
  } finally {
    liveClaims().delete(claim.id);
  }
}

async function settleInterrupted(row: WorkspaceRow & { actionOwner: string | null }, claim: Claim, interrupted: Action, actor: Actor): Promise<void> {
  const id = row.id;
  log.warn("recovering an interrupted action", { workspaceId: id, action: interrupted, status: row.status });
  const b = backend();
  const held = row.allocations.map((a) => a.gpuUuid).sort();
  let unit = row.containerId ? await b.observe(row.containerId) : null;
  if (!unit) {
    const byName = await b.observe(row.containerName);
    if (byName?.workspaceId === id) unit = byName;
  }
  // What recovery did to the unit, audited once it is done: a container removed or stopped by Gantry on its own is
  // always in the log, under the actor that did it.
  const audit = (did: "removed" | "stopped" | "kept" | "none", status: WorkspaceStatus | "deleted") =>
    recordAudit(db(), { actor, action: "workspace.recover", targetType: "workspace", targetId: id, before: { status: row.status, action: interrupted }, after: { container: unit?.ref ?? null, did, status } });
  const settle = (status: WorkspaceStatus, message: string, fields: Record<string, unknown> = {}, reason: EndReason = "crash", at?: Date) =>
    db().$transaction(async (tx) => {
      const holds = STATUS_RULES[status].holdsResources;
      const { count } = await tx.workspace.updateMany({ where: { id, actionId: claim.id }, data: { status, statusMessage: message, ...SETTLED, ...(holds ? {} : { upstream: null }), ...fields } });
      if (count === 0) return;
      if (!holds) {
        await tx.gpuAllocation.deleteMany({ where: { workspaceId: id } });
        await closeUsage(tx, id, at ?? new Date(), reason);
      } else {
        await openUsage(tx, id, unit?.startedAt ?? new Date());
      }
    });

  // When the workspace stopped holding: now if its unit still ran until this process stopped it; Docker's FinishedAt if
  // it had stopped already; the dead process's last heartbeat if the unit is gone and Docker knows nothing.
  const endedAt = async () => (unit?.running ? new Date() : (unit?.finishedAt ?? (await lastSignOfLifeBefore(row.actionOwner)) ?? new Date()));

  if (interrupted === "delete") {
    const at = await endedAt();
    if (unit) await b.remove(unit.ref);
    await db().$transaction(async (tx) => {
      const { count } = await tx.workspace.deleteMany({ where: { id, actionId: claim.id } });
      if (count > 0) await closeUsage(tx, id, at, "deleted");
    });
    await audit(unit ? "removed" : "none", "deleted");
    notifyWorkspaceDeleted(row.userId, id);
    return;
  }
  if (interrupted === "stop") {
    const at = await endedAt();
    if (unit) await b.stop(unit.ref);
    await settle("stopped", "", { containerId: unit?.ref ?? null }, "stopped", at);
    await audit(!unit ? "none" : unit.running ? "stopped" : "kept", "stopped");
  } else if (unit?.running && sameSet(unit.gpuUuids, held) && held.length === row.gpus) {
    const image = await db().image.findUnique({ where: { id: row.imageId }, select: { port: true } });
    // An interrupted reset whose new unit runs: the old unit's interval ends where the new one begins.
    if (interrupted === "reset") await db().$transaction((tx) => closeUsage(tx, id, unit!.startedAt ?? new Date(), "reset"));
    await settle("running", "", { containerId: unit.ref, upstream: unit.address && image ? b.upstreamUrl(unit.address, image.port) : null, startedAt: unit.startedAt ?? new Date() });
    await audit("kept", "running");
  } else {
    const at = await endedAt();
    if (unit) await (interrupted === "start" ? b.stop(unit.ref) : b.remove(unit.ref));
    const left = interrupted === "start" && unit ? unit.ref : null;
    await settle("error", `Gantry was restarted while this workspace was ${STATUS_RULES[row.status as WorkspaceStatus]?.doing ?? "changing"}; start or reset it again. Files in /workspace are kept.`, { containerId: left }, "crash", at);
    await audit(!unit ? "none" : interrupted !== "start" ? "removed" : unit.running ? "stopped" : "kept", "error");
  }
  await notifyWorkspace(id);
}

const INTERRUPTED_BY_STATUS: Record<string, Action> = { pulling: "launch", starting: "start", stopping: "stop", resetting: "reset", deleting: "delete" };

/** The same GPUs, in any order. */
export function sameSet(a: string[], b: string[]): boolean {
  const sb = [...b].sort();
  return a.length === b.length && [...a].sort().every((x, i) => x === sb[i]);
}
