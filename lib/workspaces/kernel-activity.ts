import { baseUrlFor } from "../backend/base-url";

// A Jupyter server's kernels, read straight from the workspace at the address the backend observed (never through
// the proxy: reading must not count as use). /api/status says how many kernels there are; /api/kernels gives each
// one's execution state and the last time it sent a message. Jupyter's own "last_activity" in /api/status is not
// used: our own reads of /api/kernels would keep it fresh.

export type KernelActivity = { kernels: number; busy: boolean; lastActivity: number | null };
/** The server answered in a way that says nothing (a timeout, a 5xx, not JSON): a kernel may be working; never idle. */
export const UNKNOWN = "unknown" as const;

const TIMEOUT_MS = 3000;

class NoJupyter extends Error {}

async function getJson(url: string, token: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `token ${token}`, accept: "application/json" }, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "manual" });
  } catch (e) {
    // Nothing listens there (an image without Jupyter, or one that is not up): no kernel can be busy.
    const code = (e as { cause?: { code?: string } }).cause?.code;
    if (code === "ECONNREFUSED" || code === "EHOSTUNREACH") throw new NoJupyter();
    throw e;
  }
  if (res.status === 404) throw new NoJupyter();
  if (!res.ok) throw new Error(`${res.status}`);
  return res.json();
}

/**
 * Null when the workspace serves no Jupyter API (another image, not up yet): no kernel to say it is busy. UNKNOWN when
 * the server is there but did not say (a kernel using every CPU it has can starve its server into a timeout).
 */
export async function readKernelActivity(ws: { id: string; upstream: string | null; jupyterToken: string }): Promise<KernelActivity | typeof UNKNOWN | null> {
  if (!ws.upstream) return null;
  const base = `${ws.upstream.replace(/\/$/, "")}${baseUrlFor(ws.id)}api`;
  try {
    const status = (await getJson(`${base}/status`, ws.jupyterToken)) as { kernels?: unknown };
    if (typeof status?.kernels === "number" && status.kernels === 0) return { kernels: 0, busy: false, lastActivity: null };
    const list = (await getJson(`${base}/kernels?no_track_activity=1`, ws.jupyterToken)) as { execution_state?: unknown; last_activity?: unknown }[];
    if (!Array.isArray(list)) return UNKNOWN;
    let lastActivity: number | null = null;
    let busy = false;
    for (const k of list) {
      // "busy" runs a cell; "starting" and "restarting" are on their way to it: all are work in progress.
      if (k.execution_state === "busy" || k.execution_state === "starting" || k.execution_state === "restarting") busy = true;
      const t = typeof k.last_activity === "string" ? Date.parse(k.last_activity) : NaN;
      if (Number.isFinite(t)) lastActivity = Math.max(lastActivity ?? 0, t);
    }
    return { kernels: list.length, busy, lastActivity };
  } catch (e) {
    return e instanceof NoJupyter ? null : UNKNOWN;
  }
}
