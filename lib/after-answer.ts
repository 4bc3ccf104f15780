import { AsyncLocalStorage } from "node:async_hooks";
import { log } from "./log";

// Work a request sets off that its answer does not wait for (recording a new workspace's address): begun at once, it
// shares the one event loop with the writing of that answer, and held a launch's answer up by ~5 ms
// (bench/launch-reset.ts). The HTTP layer runs each request in a scope (lib/http/route.ts) and hands what was queued
// here to Next.js's after(), which runs it once the answer is out. Outside a request (background work, the CLI), or
// after the request's scope has closed (a launch that goes on pulling in the background), it runs on the next turn of
// the event loop.

type Scope = { queued: (() => void)[]; open: boolean };
const scopes = new AsyncLocalStorage<Scope>();

/** Runs `fn` once the current request has been answered (or soon, when there is no request). */
export function afterAnswer(fn: () => void): void {
  const scope = scopes.getStore();
  if (scope?.open) scope.queued.push(fn);
  else setImmediate(() => {
    try {
      fn();
    } catch (e) {
      log.error("work queued for after an answer failed", { error: e });
    }
  });
}

/**
 * Runs `answer` in a scope of its own; what it queued with afterAnswer goes to `schedule` when it is done (also when it
 * failed). `schedule` failing (no request to wait for) runs the queued work on the next turn instead.
 */
export async function answering<T>(answer: () => Promise<T>, schedule: (work: () => void) => void): Promise<T> {
  const scope: Scope = { queued: [], open: true };
  try {
    return await scopes.run(scope, answer);
  } finally {
    scope.open = false;
    if (scope.queued.length) {
      const work = () => {
        for (const fn of scope.queued) {
          // One that throws must not keep the others from running, nor crash the process from a setImmediate.
          try {
            fn();
          } catch (e) {
            log.error("work queued for after an answer failed", { error: e });
          }
        }
      };
      try {
        schedule(work);
      } catch {
        setImmediate(work);
      }
    }
  }
}
