import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";
import { config } from "../config";
import { db } from "../db/client";
import { log } from "../log";
import { publish, subscribe } from "../events/bus";
import { setGpuSampleSource } from "../metrics/metrics";
import { parseTelemetryLine, telemetryArgs, type GpuReading } from "./parse-telemetry";
import { foldIntoHours, HOURS_KEPT_MS, MinuteBuckets, MINUTES_KEPT_MS, periodStart, HOUR_S, type Holder, type SampleRow } from "./telemetry-buckets";

// Live GPU telemetry: one long-lived `nvidia-smi` in query mode with a loop interval (never a process per sample).
// Each reading is tied to the workspace holding that GPU; owners' dashboards get their GPUs' readings over the event
// stream; minutes are written to the database (downsampled to hours after a day, kept 30 days). A sampler that dies
// is started again with backoff; a host without nvidia-smi has "no telemetry", which is a state, not an error.

export type GpuSample = GpuReading & { at: Date; holder: Holder | null };
export type TelemetryState = "off" | "starting" | "live" | "restarting" | "unavailable";
export type TelemetryStatus = { state: TelemetryState; reason: string | null; since: Date; restarts: number; intervalMs: number };

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 60_000;
/** A sampler that ran this long before it died is not failing over and over: its backoff starts again. */
const HEALTHY_RUN_MS = 30_000;
const COMPACT_EVERY_MS = 10 * 60_000;

/**
 * For the idle culler, per GPU and holder: the last time (ms) each whole utilisation percent 0-100 was reached, since
 * this process started. Whatever the admin's threshold, the answer is one look-up; 101 numbers per GPU and holder.
 */
type Reached = Float64Array;

type State = {
  status: TelemetryStatus;
  latest: Map<string, GpuSample>;
  reached: Map<string, Reached>;
  /** What the database says about the time before this process started (it no longer changes). */
  before: Map<string, number | null>;
  startedAt: number;
  holders: Map<string, Holder>;
  buckets: MinuteBuckets;
};

const key = Symbol.for("gantry.gpu-telemetry");
type Global = { [key]?: State };

function state(): State {
  const g = globalThis as Global;
  g[key] ??= {
    status: { state: "off", reason: "The telemetry sampler has not started.", since: new Date(), restarts: 0, intervalMs: config.telemetryIntervalMs },
    latest: new Map(),
    reached: new Map(),
    before: new Map(),
    startedAt: Date.now(),
    holders: new Map(),
    buckets: new MinuteBuckets(),
  };
  return g[key];
}

export function telemetryStatus(): TelemetryStatus {
  return state().status;
}

/** Readings no older than three intervals: a GPU the sampler stopped reporting has no live value. */
export function latestGpuSamples(now = Date.now()): GpuSample[] {
  const s = state();
  const fresh = Math.max(3 * s.status.intervalMs, 5000);
  return [...s.latest.values()].filter((r) => now - r.at.getTime() <= fresh).sort((a, b) => a.index - b.index);
}

/** The minutes still being summed (not in the database yet), for charts that reach up to now. */
export function openSampleRows(): SampleRow[] {
  return state().buckets.peek();
}

function setStatus(next: TelemetryState, reason: string | null): void {
  const s = state();
  const was = s.status;
  if (was.state === next && was.reason === reason) return;
  s.status = { ...was, state: next, reason, since: new Date() };
  const fields = { state: next, reason, restarts: was.restarts };
  if (next === "unavailable" || next === "restarting") log.warn("GPU telemetry", fields);
  else log.info("GPU telemetry", fields);
}

const HOLDERS_MAX_AGE_MS = 60_000;

async function refreshHolders(): Promise<void> {
  const rows = await db().gpuAllocation.findMany({ select: { gpuUuid: true, workspaceId: true, userId: true } });
  const s = state();
  s.holders = new Map(rows.map((r) => [r.gpuUuid, { workspaceId: r.workspaceId, userId: r.userId }]));
  // A GPU's look-back for a holder that let it go is of no more use (a start again begins a new idle clock).
  const holding = new Set(rows.map((r) => `${r.gpuUuid}|${r.workspaceId}`));
  for (const key of s.reached.keys()) if (!holding.has(key)) s.reached.delete(key);
  for (const key of s.before.keys()) if (!holding.has(key.slice(0, key.lastIndexOf("|")))) s.before.delete(key);
}

/** Each holder's GPUs' fresh readings, to its owner's dashboards (and admins', as every workspace event). */
function publishLive(): void {
  const byWorkspace = new Map<string, { userId: string; gpus: GpuSample[] }>();
  for (const sample of latestGpuSamples()) {
    const h = state().holders.get(sample.uuid);
    if (!h) continue;
    const entry = byWorkspace.get(h.workspaceId) ?? { userId: h.userId, gpus: [] };
    entry.gpus.push(sample);
    byWorkspace.set(h.workspaceId, entry);
  }
  for (const [workspaceId, { userId, gpus }] of byWorkspace) {
    publish({ type: "gpu-telemetry", userId, workspaceId, gpus: gpus.map(toLive) });
  }
}

export type LiveGpu = GpuReading & { at: string };
function toLive(s: GpuSample): LiveGpu {
  const { holder: _holder, at, ...reading } = s;
  return { ...reading, at: at.toISOString() };
}

async function flush(before: number): Promise<void> {
  const rows = state().buckets.take(before);
  if (rows.length) await db().gpuSample.createMany({ data: rows });
}

/** Minutes older than a day become hours; anything older than 30 days goes. */
export async function compactTelemetry(now = Date.now()): Promise<void> {
  const cutoff = new Date(periodStart(now - MINUTES_KEPT_MS, HOUR_S));
  const minutes = await db().gpuSample.findMany({ where: { periodS: 60, at: { lt: cutoff } } });
  if (!minutes.length) {
    await db().gpuSample.deleteMany({ where: { at: { lt: new Date(now - HOURS_KEPT_MS) } } });
    return;
  }
  const hours = foldIntoHours(minutes.map(({ id: _id, ...r }) => r));
  // Minutes this old are never written again (the sampler writes the minute that just ended), so the same filter
  // deletes exactly the rows read.
  await db().$transaction([
    db().gpuSample.deleteMany({ where: { periodS: 60, at: { lt: cutoff } } }),
    db().gpuSample.createMany({ data: hours }),
    db().gpuSample.deleteMany({ where: { at: { lt: new Date(now - HOURS_KEPT_MS) } } }),
  ]);
}

/**
 * Starts the sampler and its bookkeeping; returns the function that stops both. With the interval set to 0 there
 * is no sampler ("off").
 */
export function startTelemetry(): () => void {
  const s = state();
  const intervalMs = config.telemetryIntervalMs;
  s.status = { ...s.status, intervalMs };
  if (intervalMs <= 0) {
    setStatus("off", "GPU telemetry is turned off (GANTRY_TELEMETRY_INTERVAL_MS=0).");
    return () => {};
  }
  // The per-GPU gauges of /metrics read the same fresh readings the dashboards get.
  setGpuSampleSource(() => latestGpuSamples());
  const path = config.nvidiaSmi;
  let stopped = false;
  let child: ChildProcess | null = null;
  let restartTimer: NodeJS.Timeout | undefined;
  let backoffMs = BACKOFF_MIN_MS;
  let lastLineAt = 0;

  const run = () => {
    if (stopped) return;
    const startedAt = Date.now();
    let lastError = "";
    let missing = false;
    if (s.status.state !== "restarting") setStatus("starting", null);
    let proc: ChildProcess;
    try {
      proc = spawn(path, telemetryArgs(intervalMs), { stdio: ["ignore", "pipe", "pipe"], windowsHide: true });
    } catch (e) {
      // Node throws here for some failures (no memory to fork, an empty path): try again later, never crash.
      setStatus("unavailable", `nvidia-smi at ${path} could not be started: ${(e as Error).message}`);
      restartTimer = setTimeout(run, BACKOFF_MAX_MS);
      restartTimer.unref();
      return;
    }
    child = proc;
    lastLineAt = Date.now();
    proc.on("error", (e: NodeJS.ErrnoException) => {
      missing = e.code === "ENOENT" || e.code === "EACCES";
      lastError = e.code === "ENOENT" ? `nvidia-smi not found at ${path}: no telemetry on this host` : `nvidia-smi at ${path} could not be started: ${e.message}`;
    });
    readline.createInterface({ input: proc.stderr! }).on("line", (line) => {
      if (line.trim()) lastError = line.trim().slice(0, 300);
    });
    readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
      const reading = parseTelemetryLine(line);
      if (!reading) {
        if (line.trim()) lastError = line.trim().slice(0, 300);
        return;
      }
      const now = Date.now();
      lastLineAt = now;
      const holder = s.holders.get(reading.uuid) ?? null;
      s.latest.set(reading.uuid, { ...reading, at: new Date(now), holder });
      s.buckets.add(reading, holder, now);
      if (holder) {
        const key = `${reading.uuid}|${holder.workspaceId}`;
        let reached = s.reached.get(key);
        if (!reached) s.reached.set(key, (reached = new Float64Array(101)));
        // A GPU that cannot say its use is taken as fully used: unknown is never idle.
        const top = reading.utilizationPercent === null ? 100 : Math.floor(reading.utilizationPercent);
        for (let p = 0; p <= top; p++) reached[p] = now;
      }
      if (s.status.state !== "live") setStatus("live", null);
    });
    proc.on("close", (code, signal) => {
      if (child === proc) child = null;
      if (stopped) return;
      const ranMs = Date.now() - startedAt;
      if (ranMs >= HEALTHY_RUN_MS) backoffMs = BACKOFF_MIN_MS;
      const why = lastError || (signal ? `nvidia-smi was killed by ${signal}` : `nvidia-smi exited with code ${code}`);
      s.status = { ...s.status, restarts: s.status.restarts + 1 };
      // No nvidia-smi or no driver: a host without telemetry. It is looked for again now and then (a driver installed later).
      const noDriver = missing || code === 9 || code === 12 || /No devices were found|couldn't communicate with the NVIDIA driver/i.test(why);
      setStatus(noDriver ? "unavailable" : "restarting", why);
      restartTimer = setTimeout(run, noDriver ? BACKOFF_MAX_MS : backoffMs);
      restartTimer.unref();
      backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS);
    });
  };

  let ticking = false;
  let lastCompact = 0;
  // Who holds which GPU changes only with a lifecycle action, and every action publishes its workspace: the holders
  // are read again after one (and once a minute, for changes another process made), not every sample.
  let holdersStale = false;
  let holdersReadAt = Date.now();
  const unsubscribe = subscribe((e) => {
    if (e.type === "workspace" || e.type === "workspace-deleted") holdersStale = true;
  });
  const tick = async () => {
    if (ticking) return;
    ticking = true;
    try {
      // An nvidia-smi wedged on the driver prints nothing and does not exit: kill it, and the close handler restarts it.
      if (child && Date.now() - lastLineAt > Math.max(5 * intervalMs, 10_000)) {
        log.warn("GPU telemetry: nvidia-smi stopped reporting; restarting it", { silentMs: Date.now() - lastLineAt });
        child.kill("SIGKILL");
        lastLineAt = Date.now();
      }
      if (holdersStale || Date.now() - holdersReadAt > HOLDERS_MAX_AGE_MS) {
        holdersStale = false;
        holdersReadAt = Date.now();
        await refreshHolders();
      }
      publishLive();
      await flush(Date.now());
      if (Date.now() - lastCompact > COMPACT_EVERY_MS) {
        lastCompact = Date.now();
        await compactTelemetry();
      }
    } catch (e) {
      log.warn("GPU telemetry bookkeeping failed", { error: e });
    } finally {
      ticking = false;
    }
  };
  const ticker = setInterval(() => void tick(), Math.max(intervalMs, 500));
  ticker.unref();
  void refreshHolders().catch(() => {}).finally(run);

  return () => {
    stopped = true;
    unsubscribe();
    setGpuSampleSource(null);
    clearInterval(ticker);
    clearTimeout(restartTimer);
    child?.kill("SIGTERM");
    void flush(Infinity).catch(() => {});
  };
}

/**
 * For the idle culler: when a GPU last reached `thresholdPercent` while this workspace held it, since `since`. Not
 * covered when the sampler has no fresh reading of it (or the GPU cannot report its use): unknown is never idle.
 */
export async function lastGpuUse(uuid: string, workspaceId: string, since: number, thresholdPercent: number): Promise<{ covered: boolean; lastBusy: number | null }> {
  const now = Date.now();
  const live = latestGpuSamples(now).find((s) => s.uuid === uuid);
  if (!live || live.utilizationPercent === null) return { covered: false, lastBusy: null };
  if (live.utilizationPercent >= thresholdPercent) return { covered: true, lastBusy: now };
  // Since this process started, one look-up; before that, the stored minutes (a busy minute counts to its end).
  const threshold = Math.max(0, Math.min(100, Math.ceil(thresholdPercent)));
  const seen = state().reached.get(`${uuid}|${workspaceId}`)?.[threshold];
  if (seen) return { covered: true, lastBusy: seen };
  const from = state().startedAt;
  if (since >= from) return { covered: true, lastBusy: null };
  const key = `${uuid}|${workspaceId}|${threshold}`;
  if (!state().before.has(key)) {
    const stored = await db().gpuSample.findFirst({
      where: { gpuUuid: uuid, workspaceId, at: { lt: new Date(from) }, utilizationMax: { gte: threshold } },
      orderBy: { at: "desc" },
      select: { at: true, periodS: true },
    });
    state().before.set(key, stored ? Math.min(stored.at.getTime() + stored.periodS * 1000, from) : null);
  }
  const before = state().before.get(key)!;
  return { covered: true, lastBusy: before !== null && before >= since - 60_000 ? before : null };
}
