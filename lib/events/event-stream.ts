import type { Caller } from "../auth/caller";
import { subscribe, type WorkspaceEvent } from "./bus";
import { db } from "../db/client";

/**
 * Server-sent events for the caller's workspaces (an admin sees everyone's): status changes and pull progress.
 * Ownership is checked per event, so a stream never carries another user's workspace.
 */
export function workspaceEventStream(caller: Caller, signal: AbortSignal, stillValid: () => Promise<boolean>): Response {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (event: string, data: unknown) => {
        try {
          controller.enqueue(encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
        } catch {
          cleanup();
        }
      };
      send("hello", { userId: caller.id });
      const unsubscribe = subscribe((e: WorkspaceEvent) => {
        if (e.userId === caller.id) return send(e.type, e);
        if (caller.role !== "admin") return;
        // Someone else's workspace: only while the caller is still an enabled admin, checked per event.
        void db()
          .user.findUnique({ where: { id: caller.id }, select: { role: true, disabled: true } })
          .then((u) => {
            if (u && !u.disabled && u.role === "admin") send(e.type, e);
          })
          .catch(() => {});
      });
      // Each keep-alive also re-checks the credential the stream was opened with, so a stream ends within 15 s of
      // its user being disabled, deleted or demoted, its token revoked or its session signed out.
      const keepAlive = setInterval(async () => {
        if (!(await stillValid().catch(() => false))) {
          cleanup();
          try {
            controller.close();
          } catch {
            /* already closed */
          }
          return;
        }
        try {
          controller.enqueue(encoder.encode(": keep-alive\n\n"));
        } catch {
          cleanup();
        }
      }, 15_000);
      cleanup = () => {
        unsubscribe();
        clearInterval(keepAlive);
      };
      signal.addEventListener("abort", () => {
        cleanup();
        try {
          controller.close();
        } catch {
          /* already closed */
        }
      });
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-store, no-transform", Connection: "keep-alive", "X-Accel-Buffering": "no" },
  });
}
