import { db } from "../db/client";
import { log } from "../log";
import type { Action } from "../workspaces/lifecycle";
import { createMetrics, type GpuSampleSource, type IdleStopReason, type Metrics, type Outcome, type StateCounts } from "./create-metrics";

// The process's one set of metrics. It lives on globalThis: the custom server (the proxy, background tasks) and
// Next's route handlers (the lifecycle runner behind the API, GET /metrics) are two module graphs in one process,
// and both must count into the registry that GET /metrics renders (as lib/events/bus.ts does for events).

export type { GpuSample, GpuSampleSource, IdleStopReason } from "./create-metrics";

const key = Symbol.for("gantry.metrics");
type Holder = { [key]?: Metrics };

async function readState(): Promise<StateCounts> {
  const [users, byStatus, gpusTotal, gpusAllocated] = await Promise.all([
    db().user.count(),
    db().workspace.groupBy({ by: ["status"], _count: { _all: true } }),
    db().gpu.count(),
    db().gpuAllocation.count(),
  ]);
  return { users, workspacesByStatus: Object.fromEntries(byStatus.map((r) => [r.status, r._count._all])), gpusTotal, gpusAllocated };
}

function metrics(): Metrics {
  const g = globalThis as Holder;
  g[key] ??= createMetrics({ readState, defaultMetrics: true });
  return g[key];
}

/** Counting must never change what it counts: a metrics failure is logged, and the lifecycle or request goes on. */
function safely(what: string, fn: (m: Metrics) => void): void {
  try {
    fn(metrics());
  } catch (e) {
    log.warn("could not update a metric", { metric: what, error: e });
  }
}

/** The text exposition format for GET /metrics. */
export function renderMetrics(): Promise<{ contentType: string; body: string }> {
  return metrics().render();
}

/** How long a lifecycle action took (the runner calls this for every action it runs). */
export function observeAction(action: Action, outcome: Outcome, seconds: number): void {
  safely("workspace action duration", (m) => m.observeAction(action, outcome, seconds));
}

/** The idle culler calls this for each workspace it stops: "idle" (no use for the idle timeout) or "budget" (GPU-hours spent). */
export function countIdleStop(reason: IdleStopReason): void {
  safely("idle stops", (m) => m.countIdleStop(reason));
}

/** One finished dashboard/API request; `route` must be a template (lib/metrics/route-template.ts), never a raw path. */
export function observeRequest(labels: { method: string; route: string; code: string }, seconds: number): void {
  safely("request duration", (m) => m.observeRequest(labels, seconds));
}

/** Bytes the proxy exchanged with workspaces since the last count. */
export function countProxyBytes(toWorkspace: number, fromWorkspace: number): void {
  safely("proxy bytes", (m) => m.countProxyBytes(toWorkspace, fromWorkspace));
}

/** An event stream (GET /api/events) opened (+1) or ended (-1). */
export function countEventStreamClients(delta: 1 | -1): void {
  safely("event stream clients", (m) => m.countEventStreamClients(delta));
}

/** Where the per-GPU gauges read their values at scrape time: the telemetry sampler registers its latest samples. */
export function setGpuSampleSource(source: GpuSampleSource | null): void {
  metrics().setGpuSampleSource(source);
}
