import type { ImageInfo, PullProgress } from "../backend/types";
import { logWithReference } from "../backend/errors";
import { callDocker, dockerForStreams, dockerStatus, dockerUnavailable, isDockerUnreachable } from "./client";


export async function inspectImage(ref: string): Promise<ImageInfo | null> {
  return callDocker(async (d) => {
    try {
      const info = await d.getImage(ref).inspect();
      return { id: info.Id, user: info.Config?.User ?? "", env: info.Config?.Env ?? [] };
    } catch (e) {
      if (dockerStatus(e) === 404) return null;
      throw e;
    }
  });
}


type PullEvent = { id?: string; status?: string; error?: string; progressDetail?: { current?: number; total?: number } };

/** A pull that the registry (not the engine) broke off: worded for the user, never taken for "Docker is down". */
export class PullError extends Error {}
export class PullCancelled extends Error {
  constructor() {
    super("The pull was cancelled.");
  }
}

const PULL_IDLE_MS = Number(process.env.GANTRY_PULL_IDLE_TIMEOUT_MS ?? 5 * 60_000);

/**
 * Pulls an image, reporting summed per-layer byte progress. A pull can be silent for long stretches while Docker
 * waits on a registry, so it runs on the client without a request timeout, under a watchdog of its own that gives
 * up after GANTRY_PULL_IDLE_TIMEOUT_MS without any progress.
 */
export async function pullImage(ref: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void> {
  const d = dockerForStreams();
  let stream: NodeJS.ReadableStream;
  try {
    // The engine may answer nothing until the registry does: the request itself must be abortable too.
    stream = (await d.pull(ref, signal ? { abortSignal: signal } : {})) as NodeJS.ReadableStream;
  } catch (e) {
    if (signal?.aborted) throw new PullCancelled();
    if (isDockerUnreachable(e)) throw dockerUnavailable();
    throw new PullError(describePullError(ref, e));
  }
  const layers = new Map<string, { current: number; total: number; done: boolean }>();
  let last = 0;
  const report = (status: string, force = false) => {
    const now = Date.now();
    if (!force && now - last < 250) return;
    last = now;
    let bytesDone = 0, bytesTotal = 0, layersDone = 0;
    for (const l of layers.values()) {
      bytesDone += l.current;
      bytesTotal += l.total;
      if (l.done) layersDone++;
    }
    onProgress({ bytesDone, bytesTotal, layersDone, layersTotal: layers.size, status });
  };
  await new Promise<void>((resolve, reject) => {
    let watchdog: NodeJS.Timeout;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        (stream as unknown as { destroy?: () => void }).destroy?.();
        reject(new PullError(`Pulling ${ref} made no progress for ${Math.round(PULL_IDLE_MS / 1000)} s: the registry did not answer.`));
      }, PULL_IDLE_MS);
    };
    arm();
    // A cancelled launch: dropping the stream makes the engine abandon the pull.
    const abort = () => {
      clearTimeout(watchdog);
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(new PullCancelled());
    };
    if (signal?.aborted) return abort();
    signal?.addEventListener("abort", abort, { once: true });
    d.modem.followProgress(
      stream,
      (e: Error | null, output: PullEvent[]) => {
        clearTimeout(watchdog);
        const failed = (output ?? []).find((o) => o.error);
        if (e || failed) return reject(new PullError(describePullError(ref, new Error(failed?.error ?? e?.message ?? "pull failed"))));
        report("complete", true);
        resolve();
      },
      (ev: PullEvent) => {
        arm();
        if (ev.error) return;
        if (ev.id && ev.status) {
          const layer = layers.get(ev.id) ?? { current: 0, total: 0, done: false };
          if (ev.status === "Downloading" && ev.progressDetail?.total) {
            layer.current = ev.progressDetail.current ?? layer.current;
            layer.total = ev.progressDetail.total;
          } else if (/^(Download complete|Pull complete|Already exists)$/.test(ev.status)) {
            layer.current = layer.total;
            layer.done = true;
          }
          layers.set(ev.id, layer);
        }
        report(ev.status ?? "");
      },
    );
  });
}

/**
 * Registry errors and connection failures, worded for the user whose workspace could not start: what went wrong in a
 * sentence, and a reference to the full text in the server log (describeFailure's convention).
 */
export function describePullError(ref: string, e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  if (dockerStatus(e) === 404 || /not found|manifest unknown/i.test(msg)) return `Image ${ref} was not found in its registry.`;
  const reference = logWithReference("pull failed", e, { image: ref });
  if (/connection refused|no such host|dial tcp|timeout|i\/o timeout|network is unreachable/i.test(msg)) {
    return `Could not reach the registry to pull ${ref} (reference ${reference}).`;
  }
  return `Pulling ${ref} failed (reference ${reference}).`;
}
