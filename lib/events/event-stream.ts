import type { Caller } from "../auth/caller";
import { subscribe, subscribeUser, type WorkspaceEvent } from "./bus";
import { cachedCheck, type Verdict } from "./admin-check";
import { db } from "../db/client";
import { countEventStreamClients } from "../metrics/metrics";

const KEEP_ALIVE_MS = 15_000;
/** How long an admin stream trusts that its caller is still an enabled admin before reading it again. */
const ADMIN_RECHECK_MS = 1000;

/**
 * Server-sent events for the caller's workspaces (an admin sees everyone's): status changes and pull progress.
 * A user's stream listens on that user's channel of the bus only, so it never carries another user's events; an
 * admin's listens to all of them, and sends another user's event only while the caller is still an enabled admin.
 */
export function workspaceEventStream(caller: Caller, signal: AbortSignal, stillValid: () => Promise<boolean>): Response {
  const encoder = new TextEncoder();
  let closed = false;
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const close = () => {
        cleanup();
        try {
          controller.close();
        } catch {
          /* already closed */
        }
      };
      const write = (text: string) => {
        if (closed) return;
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          cleanup();
        }
      };
      const send = (e: WorkspaceEvent) => write(`event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      write(`event: hello\ndata: ${JSON.stringify({ userId: caller.id })}\n\n`);

      const unsubscribe = caller.role === "admin" ? subscribe(adminDelivery(caller.id, send)) : subscribeUser(caller.id, send);
      countEventStreamClients(1);
      // Each keep-alive also re-checks the credential the stream was opened with, so a stream ends within 15 s of
      // its user being disabled, deleted or demoted, its token revoked or its session signed out.
      const keepAlive = setInterval(async () => {
        if (!(await stillValid().catch(() => false))) return close();
        write(": keep-alive\n\n");
      }, KEEP_ALIVE_MS);
      // Runs once, however the stream ends (the client went away, a failed write, a failed re-check).
      cleanup = () => {
        if (closed) return;
        closed = true;
        unsubscribe();
        clearInterval(keepAlive);
        signal.removeEventListener("abort", close);
        countEventStreamClients(-1);
      };
      if (signal.aborted) close();
      else signal.addEventListener("abort", close, { once: true });
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" },
  });
}

/**
 * An admin stream's listener: the caller's own events go out as they come; another user's only while the caller is
 * still an enabled admin (read at most once a second, and afresh after the caller's own user changed). Events leave
 * in the order they were published, also while a re-check is being read.
 */
function adminDelivery(adminId: string, send: (e: WorkspaceEvent) => void): (e: WorkspaceEvent) => void {
  const stillAdmin = cachedCheck(async () => {
    const u = await db().user.findUnique({ where: { id: adminId }, select: { role: true, disabled: true } });
    return !!u && !u.disabled && u.role === "admin";
  }, { ttlMs: ADMIN_RECHECK_MS });
  let tail: Promise<void> | null = null;
  return (e) => {
    if (e.userId === adminId && e.type === "user-changed") stillAdmin.forget();
    const verdict = (): Verdict => (e.userId === adminId ? true : stillAdmin.check());
    let next: Promise<void>;
    if (tail === null) {
      const v = verdict();
      if (typeof v === "boolean") {
        if (v) send(e);
        return;
      }
      next = v.then((ok) => void (ok && send(e)));
    } else {
      next = tail.then(verdict).then((ok) => void (ok && send(e)));
    }
    tail = next;
    void next.finally(() => {
      if (tail === next) tail = null;
    });
  };
}
