import { dockerForStreams } from "../docker/client";
import { LABEL, MANAGED_FILTER } from "../docker/labels";
import { log } from "../log";
import { reconcileAll, reconcileWorkspace } from "./reconcile-workspaces";

type DockerEvent = { Type?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };

/**
 * Keeps workspace statuses true: follows Docker's event stream for Gantry's containers, reconnects when the
 * engine goes away, and runs a full reconcile on (re)connect and every 30 s as a safety net.
 */
export function watchDocker(): () => void {
  let stopped = false;
  let stream: NodeJS.ReadableStream | null = null;
  const timers = new Map<string, NodeJS.Timeout>();

  const schedule = (workspaceId: string) => {
    clearTimeout(timers.get(workspaceId));
    timers.set(
      workspaceId,
      setTimeout(() => {
        timers.delete(workspaceId);
        reconcileWorkspace(workspaceId).catch((e) => log.warn("reconcile failed", { workspaceId, error: e }));
      }, 250),
    );
  };

  const full = () => reconcileAll().catch((e) => log.warn("full reconcile failed", { error: e }));

  const connect = async () => {
    if (stopped) return;
    try {
      stream = (await dockerForStreams().getEvents({
        filters: { type: ["container"], ...MANAGED_FILTER, event: ["start", "die", "oom", "destroy", "stop", "kill"] },
      })) as NodeJS.ReadableStream;
    } catch {
      setTimeout(connect, 2000).unref();
      return;
    }
    full();
    let buffer = "";
    stream.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as DockerEvent;
          const id = ev.Actor?.Attributes?.[LABEL.workspace];
          if (id) schedule(id);
        } catch {
          /* a partial or foreign line: ignore */
        }
      }
    });
    const reconnect = () => {
      stream?.removeAllListeners();
      stream = null;
      if (!stopped) {
        log.warn("Docker event stream ended; reconnecting");
        setTimeout(connect, 1000).unref();
      }
    };
    stream.on("end", reconnect);
    stream.on("error", reconnect);
  };

  void connect();
  const interval = setInterval(full, 30_000);
  interval.unref();
  return () => {
    stopped = true;
    clearInterval(interval);
    for (const t of timers.values()) clearTimeout(t);
    (stream as unknown as { destroy?: () => void })?.destroy?.();
  };
}
