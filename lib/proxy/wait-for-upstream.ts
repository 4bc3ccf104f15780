import net from "node:net";

// A workspace is "running" once its container runs; its server (Jupyter) listens a moment later, a few seconds on a
// busy host. A request in between, such as the first one after Open, used to get the proxy's 502. For a container
// started in the last STARTUP_GRACE_MS the proxy now waits for the port to accept a connection first (at most until
// the grace ends, then it answers as before), once per start of each container: later requests pay nothing.

export const STARTUP_GRACE_MS = 60_000;
const PROBE_EVERY_MS = 150;

/** Per start of a container (its upstream key): the probe under way, and until when a seen listener is remembered. */
const probes = new Map<string, Promise<void>>();
const listening = new Map<string, number>();

function accepts(target: string): Promise<boolean> {
  const { hostname, port } = new URL(target);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port) || 80 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.setTimeout(PROBE_EVERY_MS * 4, () => done(false));
  });
}

/**
 * Resolves once `target` accepts a TCP connection, or at once when the container started more than
 * STARTUP_GRACE_MS ago (or its start is unknown), or its port was seen listening since this start.
 */
export function waitForUpstream(target: string, key: string, startedAt: number | null, now = Date.now()): Promise<void> {
  if (startedAt === null) return Promise.resolve();
  const until = startedAt + STARTUP_GRACE_MS;
  if (now >= until || listening.has(key)) return Promise.resolve();
  for (const [k, t] of listening) if (t <= now) listening.delete(k);
  let probe = probes.get(key);
  if (!probe) {
    probe = (async () => {
      while (Date.now() < until) {
        if (await accepts(target)) {
          listening.set(key, until);
          break;
        }
        await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
      }
      probes.delete(key);
    })();
    probes.set(key, probe);
  }
  return probe;
}
