import { config } from "../config";
import { db } from "../db/client";
import { log } from "../log";
import { recordAudit, systemActor } from "../audit/record-audit";
import { isApiError } from "../errors";
import { backend } from "../backend/backend";
import { getSettings, type IdleCullingSettings } from "../settings/settings";
import { lastGpuUse } from "../gpus/telemetry";
import { lastActivity, openSessions } from "./activity";
import { decideIdle, snoozesAfterUse } from "./idle-rules";
import { readKernelActivity, UNKNOWN } from "./kernel-activity";
import { notifyWorkspace } from "./notify";
import { runAction } from "./run-action";
import { postWebhook } from "./idle-webhook";
import { countIdleStop } from "../metrics/metrics";
import { budgetOf, quotaOf } from "../quotas/quota-usage";
import { fmtHours, type BudgetStatus } from "../quotas/quota-math";

// The idle culler: every running workspace whose timeout is on (the admin's, or its image's own) is checked a few
// times a minute. Idle means, for the whole window: no proxy traffic, no terminal or SSH session, no kernel busy or
// active, and every GPU it holds under the utilisation threshold (a GPU the sampler cannot read is never idle). The
// owner is warned first (a banner with "Keep running", and the webhook); then the workspace is stopped, not deleted,
// through the lifecycle runner, as system:idle-culler.

export const CULLER = systemActor("idle-culler");

type Row = Awaited<ReturnType<typeof runningWorkspaces>>[number];

function runningWorkspaces() {
  return db().workspace.findMany({
    where: { status: "running", action: null },
    select: {
      id: true,
      name: true,
      userId: true,
      upstream: true,
      jupyterToken: true,
      startedAt: true,
      lastActivityAt: true,
      idleStopAt: true,
      idleStopReason: true,
      idleSnoozedAt: true,
      idleSnoozes: true,
      containerId: true,
      image: { select: { idleTimeoutMinutes: true } },
      user: { select: { email: true } },
      allocations: { select: { gpuUuid: true } },
    },
  });
}

/** The last real use of a workspace, looking back as far as `since` (older use does not matter to the decision). */
async function lastUse(ws: Row, since: number, settings: IdleCullingSettings, wantKernels: (soFar: number) => boolean): Promise<number> {
  const now = Date.now();
  if (openSessions(ws.id) > 0) return now;
  let last = Math.max(ws.startedAt?.getTime() ?? 0, ws.lastActivityAt?.getTime() ?? 0, lastActivity(ws.id)?.getTime() ?? 0);
  for (const a of ws.allocations) {
    const gpu = await lastGpuUse(a.gpuUuid, ws.id, since, settings.gpuThresholdPercent);
    if (!gpu.covered) return now;
    if (gpu.lastBusy !== null) last = Math.max(last, gpu.lastBusy);
  }
  // Kernels are asked last, and only when nothing else already says the workspace is in use.
  if (wantKernels(last)) {
    const kernels = await readKernelActivity(ws);
    if (kernels === UNKNOWN || kernels?.busy) return now;
    if (kernels?.lastActivity) last = Math.max(last, Math.min(kernels.lastActivity, now));
  }
  return last;
}

function minutes(ms: number): number {
  return Math.max(1, Math.round(ms / config.idleMinuteMs));
}

async function checkOne(ws: Row, settings: IdleCullingSettings): Promise<void> {
  const timeoutMin = ws.image.idleTimeoutMinutes ?? settings.timeoutMinutes;
  if (!timeoutMin) {
    // Culling was turned off (or this image opted out) after a warning: take it back.
    if (ws.idleStopAt && ws.idleStopReason === "idle") await clearWarning(ws);
    return;
  }
  // A warning for a used-up budget is the budget's business (lib/quotas), not this one's.
  if (ws.idleStopAt && ws.idleStopReason !== "idle") return;
  const now = Date.now();
  const timeoutMs = timeoutMin * config.idleMinuteMs;
  const warningMs = settings.warningMinutes * config.idleMinuteMs;
  const since = now - timeoutMs;
  const use = await lastUse(ws, since, settings, (soFar) => now - soFar >= timeoutMs - Math.min(warningMs, timeoutMs / 2));
  const snoozes = snoozesAfterUse(ws.idleSnoozes, ws.idleSnoozedAt?.getTime() ?? null, use);
  if (snoozes !== ws.idleSnoozes) await db().workspace.updateMany({ where: { id: ws.id, idleSnoozes: ws.idleSnoozes }, data: { idleSnoozes: snoozes } });
  const decision = decideIdle({ now, lastUse: use, snoozedAt: ws.idleSnoozedAt?.getTime() ?? null, timeoutMs, warningMs, stopAt: ws.idleStopAt?.getTime() ?? null });
  switch (decision.kind) {
    case "active":
    case "wait":
      return;
    case "clear":
      return clearWarning(ws);
    case "warn": {
      const stopAt = new Date(decision.stopAt);
      const idleMin = minutes(now - Math.max(use, ws.idleSnoozedAt?.getTime() ?? 0));
      // Only on the row as read: a start, stop or Keep running during this pass wins.
      const done = await db().workspace.updateMany({
        where: { id: ws.id, status: "running", action: null, idleStopAt: null, startedAt: ws.startedAt, idleSnoozedAt: ws.idleSnoozedAt },
        data: { idleStopAt: stopAt, idleStopReason: "idle" },
      });
      if (!done.count) return;
      await recordAudit(db(), { actor: CULLER, action: "workspace.idle_warning", targetType: "workspace", targetId: ws.id, after: { stopAt, idleMinutes: idleMin } });
      await notifyWorkspace(ws.id);
      postWebhook(settings.webhookUrl, {
        event: "idle-warning",
        text: `Gantry: workspace "${ws.name}" of ${ws.user.email} has been idle for ${idleMin} minutes and will be stopped at ${stopAt.toISOString()} unless it is used or kept running.`,
        workspace: { id: ws.id, name: ws.name },
        user: { id: ws.userId, email: ws.user.email },
        stopAt: stopAt.toISOString(),
      });
      return;
    }
    case "stop":
      return stopIdle(ws, decision.idleMs, settings);
  }
}

async function clearWarning(ws: Row): Promise<void> {
  const done = await db().workspace.updateMany({ where: { id: ws.id, idleStopAt: ws.idleStopAt }, data: { idleStopAt: null, idleStopReason: null } });
  if (done.count) await notifyWorkspace(ws.id);
}

async function stopIdle(ws: Row, idleMs: number, settings: IdleCullingSettings): Promise<void> {
  const idleMin = minutes(idleMs);
  const stopped = await stopWarned(ws, "idle", `Stopped after ${idleMin} minute${idleMin === 1 ? "" : "s"} idle`, { idleMinutes: idleMin });
  if (!stopped) return;
  log.info("idle workspace stopped", { workspaceId: ws.id, idleMinutes: idleMin });
  postWebhook(settings.webhookUrl, {
    event: "idle-stop",
    text: `Gantry: workspace "${ws.name}" of ${ws.user.email} was stopped after ${idleMin} minutes idle. Its files are kept; start it again from the dashboard.`,
    workspace: { id: ws.id, name: ws.name },
    user: { id: ws.userId, email: ws.user.email },
  });
}

/**
 * The stop a warning announced, through the lifecycle runner as system:idle-culler, and only while that warning still
 * stands (a "Keep running" a moment ago wins). False when there was nothing to stop any more.
 */
async function stopWarned(ws: Row, reason: "idle" | "budget", statusMessage: string, detail: Record<string, unknown>): Promise<boolean> {
  try {
    await runAction(ws.id, {
      action: "stop",
      actor: CULLER,
      guard: { idleStopAt: ws.idleStopAt! },
      audit: { before: { id: ws.id, name: ws.name, status: "running" }, after: { status: "stopped", reason, ...detail } },
      async work(ctx) {
        if (ctx.ws.containerId) await backend().stop(ctx.ws.containerId);
        return { endReason: reason, statusMessage };
      },
    });
  } catch (e) {
    // Kept running, stopped or deleted meanwhile: nothing to do.
    if (isApiError(e) && (e.code === "not_found" || e.code === "conflict")) return false;
    throw e;
  }
  countIdleStop(reason);
  return true;
}

/**
 * GPU-hour budgets: a user's running GPU workspaces are warned when the budget will run out within the warning's lead
 * time (or has run out: an admin lowered it), and stopped when the warned moment comes, like idle ones.
 */
async function checkBudgets(rows: Row[], settings: IdleCullingSettings): Promise<Set<string>> {
  const handled = new Set<string>();
  const byUser = new Map<string, Row[]>();
  for (const ws of rows) if (ws.allocations.length) byUser.set(ws.userId, [...(byUser.get(ws.userId) ?? []), ws]);
  for (const [userId, mine] of byUser) {
    await checkUserBudget(userId, mine, settings, handled).catch((e) => log.warn("budget check failed", { userId, error: e }));
  }
  return handled;
}

async function checkUserBudget(userId: string, mine: Row[], settings: IdleCullingSettings, handled: Set<string>): Promise<void> {
  {
    const quota = await quotaOf(userId);
    const budget = await budgetOf(userId, quota);
    const now = Date.now();
    // Every GPU the ledger has open burns the budget, also those of a workspace mid-action.
    const gpusHeld = Math.max(budget?.burningGpus ?? 0, mine.reduce((n, w) => n + w.allocations.length, 0));
    const runsOutAt = budget ? now + (budget.left / gpusHeld) * 3_600_000 : Infinity;
    const warningMs = settings.warningMinutes * config.idleMinuteMs;
    if (!budget || runsOutAt - now > warningMs) {
      // The budget was raised or removed after a warning: take it back.
      for (const ws of mine) if (ws.idleStopReason === "budget") await clearWarning(ws);
      return;
    }
    for (const ws of mine) {
      handled.add(ws.id);
      if (ws.idleStopAt && ws.idleStopReason === "budget") {
        // More budget, or fewer GPUs burning it, since the warning: the stop moves to when it now runs out.
        if (budget.left > 0 && runsOutAt > ws.idleStopAt.getTime() + 1000) {
          const moved = await db().workspace.updateMany({ where: { id: ws.id, idleStopAt: ws.idleStopAt }, data: { idleStopAt: new Date(runsOutAt) } });
          if (moved.count) await notifyWorkspace(ws.id);
          continue;
        }
        if (now >= ws.idleStopAt.getTime()) await stopForBudget(ws, budget, settings);
        continue;
      }
      // Never a stop without its warning: the whole lead time when the budget has already run out.
      const stopAt = new Date(Math.max(runsOutAt, budget.left <= 0 ? now + warningMs : runsOutAt));
      const done = await db().workspace.updateMany({ where: { id: ws.id, status: "running", idleStopAt: ws.idleStopAt }, data: { idleStopAt: stopAt, idleStopReason: "budget" } });
      if (!done.count) continue;
      await recordAudit(db(), { actor: CULLER, action: "workspace.budget_warning", targetType: "workspace", targetId: ws.id, after: { stopAt, used: budget.used, budget: budget.budget, period: budget.period } });
      await notifyWorkspace(ws.id);
      postWebhook(settings.webhookUrl, {
        event: "budget-warning",
        text: `Gantry: ${ws.user.email}'s GPU-hour budget (${fmtHours(budget.budget)} per ${budget.period}) runs out; workspace "${ws.name}" will be stopped at ${stopAt.toISOString()}.`,
        workspace: { id: ws.id, name: ws.name },
        user: { id: ws.userId, email: ws.user.email },
        stopAt: stopAt.toISOString(),
      });
    }
  }
}

async function stopForBudget(ws: Row, budget: BudgetStatus, settings: IdleCullingSettings): Promise<void> {
  const per = `${fmtHours(budget.budget)} per ${budget.period}`;
  if (!(await stopWarned(ws, "budget", `Stopped: the GPU-hour budget (${per}) is used up`, { used: budget.used, budget: budget.budget }))) return;
  postWebhook(settings.webhookUrl, {
    event: "budget-stop",
    text: `Gantry: workspace "${ws.name}" of ${ws.user.email} was stopped: the GPU-hour budget (${per}) is used up.`,
    workspace: { id: ws.id, name: ws.name },
    user: { id: ws.userId, email: ws.user.email },
  });
}

/** One pass over every running workspace: budgets first, then idleness. Exported for tests and the bench. */
export async function checkIdleWorkspaces(): Promise<void> {
  const settings = (await getSettings()).idleCulling;
  const rows = await runningWorkspaces();
  const budgeted = await checkBudgets(rows, settings).catch((e) => {
    log.warn("budget check failed", { error: e });
    return new Set<string>();
  });
  for (const ws of rows) {
    if (budgeted.has(ws.id)) continue;
    await checkOne(ws, settings).catch((e) => log.warn("idle check failed", { workspaceId: ws.id, error: e }));
  }
}

export function startIdleCuller(): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    void checkIdleWorkspaces()
      .catch((e) => log.warn("idle culler pass failed", { error: e }))
      .finally(() => (running = false));
  }, config.idleCheckMs);
  timer.unref();
  return () => clearInterval(timer);
}
