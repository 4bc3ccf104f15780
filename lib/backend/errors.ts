import crypto from "node:crypto";
import { ApiError, isApiError } from "../errors";
import { log } from "../log";

/** The engine does not answer: a 503 that promises nothing was changed (the code keeps its API name). */
export function engineUnavailable(): ApiError {
  return new ApiError("docker_unavailable", "The Docker engine is not reachable right now; nothing was changed. Try again shortly.");
}

// What a user reads of a failure (API answers, a workspace's statusMessage, the events a dashboard receives) is a
// sentence and a reference; what the engine said — container ids, image digests, socket paths, runtime internals —
// goes to the server log only, under that reference, for the operator to find.

export function newReference(): string {
  return crypto.randomBytes(4).toString("hex");
}

// lib/log.ts cuts each string at 200 characters; an engine error is often longer, and its end says most.
function pieces(text: string, size = 200, max = 8): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length && out.length < max; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** Logs the full text of `e` under a fresh reference and returns the reference. */
export function logWithReference(what: string, e: unknown, fields: Record<string, unknown> = {}): string {
  const reference = newReference();
  const err = e as { name?: string; message?: string; statusCode?: number; code?: string };
  const text = err?.message ?? String(e);
  log.error(what, { reference, ...fields, errorName: err?.name, statusCode: err?.statusCode, errorCode: err?.code, detail: pieces(text) });
  return reference;
}

/** An error the engine itself answered (dockerode's errors carry its HTTP status), rather than one of Gantry's own. */
function fromEngine(e: unknown): boolean {
  return typeof (e as { statusCode?: unknown })?.statusCode === "number";
}

/**
 * The one translation of a failure into what a user reads. An ApiError is worded for users already (quota, "image
 * not in catalog", out of memory, the engine unreachable) and passes unchanged; anything else becomes a sentence
 * with a reference id, and its full text is logged with that reference.
 * `doing` completes "Docker could not …", e.g. "start the workspace".
 */
export function describeFailure(e: unknown, doing: string, fields: Record<string, unknown> = {}): string {
  if (isApiError(e)) return e.message;
  const reference = logWithReference(`could not ${doing}`, e, fields);
  return fromEngine(e)
    ? `Docker could not ${doing} (reference ${reference}).`
    : `Gantry could not ${doing} because of an internal error (reference ${reference}).`;
}
