import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { STATUSES, type Action, type WorkspaceStatus } from "../workspaces/lifecycle";

// Gantry's Prometheus metrics, as a registry made by one function (lib/metrics/metrics.ts keeps the process's one
// instance; tests make their own).
//
// Names follow JupyterHub's exporter where they measure the same thing (jupyterhub_total_users,
// jupyterhub_running_servers, jupyterhub_server_spawn_duration_seconds, jupyterhub_server_stop_seconds,
// jupyterhub_request_duration_seconds); README.md ("Metrics") has the whole table. No label takes a per-request value:
// routes are templates, methods and statuses come from fixed lists, GPUs are the host's.

/** One GPU's latest reading, as lib/gpus/telemetry.ts reports it. */
export type GpuSample = {
  uuid: string;
  index: number;
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
  temperatureC: number | null;
  powerW: number | null;
  at: Date;
};
export type GpuSampleSource = () => GpuSample[];

/** What the database holds now, read at scrape time. */
export type StateCounts = {
  users: number;
  workspacesByStatus: Partial<Record<WorkspaceStatus, number>>;
  gpusTotal: number;
  gpusAllocated: number;
};

export type Outcome = "success" | "failure";
export type IdleStopReason = "idle" | "budget";

// Container actions take seconds to minutes (an image pull); JupyterHub's spawn buckets, which cover the same range.
const ACTION_BUCKETS = [0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 180, 300, 600];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const MB = 1024 * 1024;

export type Metrics = ReturnType<typeof createMetrics>;

/** A registry with every Gantry metric. `readState` is the database read behind the state gauges. */
export function createMetrics(opts: { readState: () => Promise<StateCounts>; defaultMetrics?: boolean }) {
  const registry = new Registry();
  const registers = [registry];
  let gpuSource: GpuSampleSource | null = null;

  // One database read per scrape (render below), shared by the gauges that show parts of it.
  let snapshot: StateCounts = { users: 0, workspacesByStatus: {}, gpusTotal: 0, gpusAllocated: 0 };
  const state = () => snapshot;

  new Gauge({
    name: "gantry_total_users",
    help: "Users with an account (disabled ones included).",
    registers,
    collect() {
      this.set(state().users);
    },
  });
  new Gauge({
    name: "gantry_workspaces",
    help: "Workspaces by lifecycle status.",
    labelNames: ["status"],
    registers,
    collect() {
      const by = state().workspacesByStatus;
      for (const status of STATUSES) this.set({ status }, by[status] ?? 0);
    },
  });
  new Gauge({
    name: "gantry_running_workspaces",
    help: "Workspaces whose Jupyter is up (status running).",
    registers,
    collect() {
      this.set(state().workspacesByStatus.running ?? 0);
    },
  });
  new Gauge({
    name: "gantry_gpus_total",
    help: "GPUs in the host's inventory.",
    registers,
    collect() {
      this.set(state().gpusTotal);
    },
  });
  new Gauge({
    name: "gantry_gpus_allocated",
    help: "GPUs held by a workspace.",
    registers,
    collect() {
      this.set(state().gpusAllocated);
    },
  });

  // Per-GPU telemetry: read from the sampler's latest values at scrape time; absent when there is no sampler, or when
  // it fails (the rest of the scrape still answers).
  const readSamples = (): GpuSample[] => {
    try {
      return gpuSource?.() ?? [];
    } catch {
      return [];
    }
  };
  const gpuGauge = (name: string, help: string, value: (s: GpuSample) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: ["gpu", "uuid"],
      registers,
      collect() {
        // A GPU that went from the inventory (or a reading that went) must not linger with its last value.
        this.reset();
        for (const s of readSamples()) {
          const v = value(s);
          if (v !== null && Number.isFinite(v)) this.set({ gpu: String(s.index), uuid: s.uuid }, v);
        }
      },
    });
  gpuGauge("gantry_gpu_utilization_percent", "GPU utilisation in percent, from nvidia-smi.", (s) => s.utilizationPercent);
  gpuGauge("gantry_gpu_memory_used_bytes", "GPU memory in use, from nvidia-smi.", (s) => (s.memoryUsedMb === null ? null : s.memoryUsedMb * MB));
  gpuGauge("gantry_gpu_memory_total_bytes", "GPU memory in all, from nvidia-smi.", (s) => (s.memoryTotalMb === null ? null : s.memoryTotalMb * MB));
  gpuGauge("gantry_gpu_temperature_celsius", "GPU temperature, from nvidia-smi.", (s) => s.temperatureC);
  gpuGauge("gantry_gpu_power_watts", "GPU power draw, from nvidia-smi.", (s) => s.powerW);

  const actionHistogram = (name: string, help: string) => {
    const h = new Histogram({ name, help, labelNames: ["status"], buckets: ACTION_BUCKETS, registers });
    // Both series exist from the start (at 0), so a rate or an alert on failures has something to read.
    h.zero({ status: "success" });
    h.zero({ status: "failure" });
    return h;
  };
  const spawn = actionHistogram("gantry_workspace_spawn_duration_seconds", "Time to launch or start a workspace until its Jupyter runs, by outcome.");
  const stop = actionHistogram("gantry_workspace_stop_duration_seconds", "Time to stop a workspace, by outcome.");
  const reset = actionHistogram("gantry_workspace_reset_duration_seconds", "Time to reset a workspace (new container, same files), by outcome.");
  const byAction: Partial<Record<Action, Histogram<"status">>> = { launch: spawn, start: spawn, stop, reset };

  const idleStops = new Counter({ name: "gantry_idle_stops_total", help: "Workspaces stopped by the idle culler, by reason.", labelNames: ["reason"], registers });
  idleStops.inc({ reason: "idle" }, 0);
  idleStops.inc({ reason: "budget" }, 0);

  const requests = new Histogram({
    name: "gantry_request_duration_seconds",
    help: "Dashboard and API request durations, by method, route template and status code.",
    labelNames: ["method", "route", "code"],
    buckets: REQUEST_BUCKETS,
    registers,
  });

  const proxyBytes = new Counter({
    name: "gantry_proxy_bytes_total",
    help: "Bytes the workspace proxy exchanged with workspaces (HTTP and WebSocket, headers included).",
    labelNames: ["direction"],
    registers,
  });
  proxyBytes.inc({ direction: "to_workspace" }, 0);
  proxyBytes.inc({ direction: "from_workspace" }, 0);

  const eventStreams = new Gauge({
    name: "gantry_event_stream_clients",
    help: "Open event streams (GET /api/events): dashboards listening for their workspaces' changes.",
    registers,
  });

  // The event-loop lag histogram samples with a timer of this period. prom-client's default, 10 ms, woke the idle
  // server 100 times a second (about 1 % of a core on its own); once a second still shows a loop that stalls.
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "gantry_", eventLoopMonitoringPrecision: 1000 });

  return {
    registry,
    /** The text exposition format, with the state gauges read from the database now. */
    async render(): Promise<{ contentType: string; body: string }> {
      snapshot = await opts.readState();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    observeAction(action: Action, outcome: Outcome, seconds: number) {
      byAction[action]?.observe({ status: outcome }, seconds);
    },
    countIdleStop(reason: IdleStopReason) {
      idleStops.inc({ reason });
    },
    observeRequest(labels: { method: string; route: string; code: string }, seconds: number) {
      requests.observe(labels, seconds);
    },
    countProxyBytes(toWorkspace: number, fromWorkspace: number) {
      if (toWorkspace > 0) proxyBytes.inc({ direction: "to_workspace" }, toWorkspace);
      if (fromWorkspace > 0) proxyBytes.inc({ direction: "from_workspace" }, fromWorkspace);
    },
    /** +1 when an event stream opens, -1 when it ends (however it ends). */
    countEventStreamClients(delta: number) {
      eventStreams.inc(delta);
    },
    setGpuSampleSource(source: GpuSampleSource | null) {
      gpuSource = source;
    },
  };
}
