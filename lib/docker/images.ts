import { callDocker, dockerStatus } from "./client";

export type ImageInfo = { id: string; user: string; env: string[] };

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

export type PullProgress = { bytesDone: number; bytesTotal: number; layersDone: number; layersTotal: number; status: string };

type PullEvent = { id?: string; status?: string; error?: string; progressDetail?: { current?: number; total?: number } };

/** Pulls an image, reporting summed per-layer byte progress. Rejects with the registry's own message on failure. */
export async function pullImage(ref: string, onProgress: (p: PullProgress) => void): Promise<void> {
  await callDocker(
    (d) =>
      new Promise<void>((resolve, reject) => {
        d.pull(ref, {}, (err: Error | null, stream?: NodeJS.ReadableStream) => {
          if (err || !stream) return reject(err ?? new Error("pull failed"));
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
          d.modem.followProgress(
            stream,
            (e: Error | null, output: PullEvent[]) => {
              const failed = e ?? (output ?? []).find((o) => o.error);
              if (failed) return reject(new Error((failed as PullEvent).error ?? (failed as Error).message));
              report("complete", true);
              resolve();
            },
            (ev: PullEvent) => {
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
                if (ev.status !== "Pulling fs layer" || !layers.has(ev.id)) layers.set(ev.id, layer);
              }
              report(ev.status ?? "");
            },
          );
        });
      }),
  );
}

/** Registry errors and connection failures, worded for the user whose workspace could not start. */
export function describePullError(ref: string, e: unknown): string {
  const msg = (e as Error)?.message ?? String(e);
  if (dockerStatus(e) === 404 || /not found|manifest unknown/i.test(msg)) return `Image ${ref} was not found in its registry.`;
  if (/connection refused|no such host|dial tcp|timeout|i\/o timeout|network is unreachable/i.test(msg)) {
    return `Could not reach the registry to pull ${ref}: ${msg.split("\n")[0].slice(0, 200)}`;
  }
  return `Pulling ${ref} failed: ${msg.split("\n")[0].slice(0, 200)}`;
}
