// When a running workspace is warned and stopped for being idle (or for a used-up GPU-hour budget), as pure rules.
// lib/workspaces/idle-culler.ts gathers the facts and acts on the decision.

export type IdleFacts = {
  now: number;
  /** The last real use: proxy traffic, an open or ended session, a busy kernel, a GPU over the threshold, the start. */
  lastUse: number;
  /** The owner's last "Keep running" (it restarts the clock, but is not use). */
  snoozedAt: number | null;
  timeoutMs: number;
  warningMs: number;
  /** The stop already announced, if any. */
  stopAt: number | null;
};

export type IdleDecision =
  | { kind: "active" }
  /** Use came back after a warning: take it back. */
  | { kind: "clear" }
  | { kind: "warn"; stopAt: number }
  | { kind: "wait"; stopAt: number }
  | { kind: "stop"; idleMs: number };

export function decideIdle(f: IdleFacts): IdleDecision {
  const clock = Math.max(f.lastUse, f.snoozedAt ?? 0);
  // The warning is never longer than half the timeout (an image's short override with the host's long warning).
  const warningMs = Math.min(f.warningMs, f.timeoutMs / 2);
  const dueAt = clock + f.timeoutMs;
  if (f.now < dueAt - warningMs) return f.stopAt === null ? { kind: "active" } : { kind: "clear" };
  // Never a stop without its warning first, the whole lead time before it (the culler may have been down).
  if (f.stopAt === null) return { kind: "warn", stopAt: Math.max(dueAt, f.now + warningMs) };
  if (f.now < f.stopAt) return { kind: "wait", stopAt: f.stopAt };
  return { kind: "stop", idleMs: f.now - clock };
}

/** "Keep running" counts start again once the workspace is really used after the last one. */
export function snoozesAfterUse(snoozes: number, snoozedAt: number | null, lastUse: number): number {
  return snoozedAt !== null && lastUse > snoozedAt ? 0 : snoozes;
}
