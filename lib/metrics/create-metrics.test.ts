import { describe, expect, it } from "vitest";
import { createMetrics, type GpuSample, type StateCounts } from "./create-metrics";
import { STATUSES } from "../workspaces/lifecycle";

const STATE: StateCounts = { users: 7, workspacesByStatus: { running: 2, stopped: 3 }, gpusTotal: 8, gpusAllocated: 2 };

function sample(index: number, over: Partial<GpuSample> = {}): GpuSample {
  return { uuid: `GPU-${index}`, index, utilizationPercent: 40 + index, memoryUsedMb: 1024, memoryTotalMb: 81920, temperatureC: 50, powerW: 300.5, at: new Date(), ...over };
}

async function scrape(m: ReturnType<typeof createMetrics>) {
  await m.render();
  const all = await m.registry.getMetricsAsJSON();
  return (name: string) => all.find((x) => x.name === name)?.values ?? [];
}

describe("the state gauges", () => {
  it("read the database's counts at scrape time; every lifecycle status has a series, 0 included", async () => {
    let state = STATE;
    const m = createMetrics({ readState: async () => state });
    let get = await scrape(m);
    expect(get("gantry_total_users")).toEqual([expect.objectContaining({ value: 7 })]);
    expect(get("gantry_gpus_total")[0].value).toBe(8);
    expect(get("gantry_gpus_allocated")[0].value).toBe(2);
    expect(get("gantry_running_workspaces")[0].value).toBe(2);
    const byStatus = Object.fromEntries(get("gantry_workspaces").map((v) => [v.labels.status, v.value]));
    expect(Object.keys(byStatus).sort()).toEqual([...STATUSES].sort());
    expect(byStatus).toMatchObject({ running: 2, stopped: 3, error: 0, pulling: 0 });

    state = { ...STATE, users: 8, workspacesByStatus: {} };
    get = await scrape(m);
    expect(get("gantry_total_users")[0].value).toBe(8);
    expect(get("gantry_workspaces").every((v) => v.value === 0)).toBe(true);
  });
});

describe("the per-GPU gauges", () => {
  it("are empty without a sample source", async () => {
    const get = await scrape(createMetrics({ readState: async () => STATE }));
    expect(get("gantry_gpu_utilization_percent")).toEqual([]);
    expect(get("gantry_gpu_memory_used_bytes")).toEqual([]);
  });

  it("show the source's latest samples, labelled by index and UUID, memory in bytes; missing readings and vanished GPUs are absent", async () => {
    const m = createMetrics({ readState: async () => STATE });
    let samples = [sample(0), sample(1, { utilizationPercent: null, powerW: null })];
    m.setGpuSampleSource(() => samples);
    let get = await scrape(m);
    expect(get("gantry_gpu_utilization_percent")).toEqual([{ labels: { gpu: "0", uuid: "GPU-0" }, value: 40 }]);
    expect(get("gantry_gpu_memory_used_bytes").map((v) => v.value)).toEqual([1024 * 1024 * 1024, 1024 * 1024 * 1024]);
    expect(get("gantry_gpu_memory_total_bytes")[1]).toEqual({ labels: { gpu: "1", uuid: "GPU-1" }, value: 81920 * 1024 * 1024 });
    expect(get("gantry_gpu_temperature_celsius").length).toBe(2);
    expect(get("gantry_gpu_power_watts")).toEqual([{ labels: { gpu: "0", uuid: "GPU-0" }, value: 300.5 }]);

    samples = [sample(1, { utilizationPercent: 99 })];
    get = await scrape(m);
    expect(get("gantry_gpu_utilization_percent")).toEqual([{ labels: { gpu: "1", uuid: "GPU-1" }, value: 99 }]);
    m.setGpuSampleSource(null);
    get = await scrape(m);
    expect(get("gantry_gpu_utilization_percent")).toEqual([]);
    // A sampler that throws leaves the GPU gauges empty; the rest of the scrape answers.
    m.setGpuSampleSource(() => {
      throw new Error("sampler died");
    });
    get = await scrape(m);
    expect(get("gantry_gpu_utilization_percent")).toEqual([]);
    expect(get("gantry_total_users")[0].value).toBe(7);
  });
});

describe("the counters and histograms", () => {
  const count = (values: { metricName?: string; labels: Partial<Record<string, string | number>>; value: number }[], name: string, labels: Record<string, string>) =>
    values.find((v) => v.metricName === name && Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))?.value;

  it("start at 0 with their fixed labels, and count what they are told", async () => {
    const m = createMetrics({ readState: async () => STATE });
    let get = await scrape(m);
    expect(count(get("gantry_workspace_spawn_duration_seconds"), "gantry_workspace_spawn_duration_seconds_count", { status: "success" })).toBe(0);
    expect(count(get("gantry_workspace_stop_duration_seconds"), "gantry_workspace_stop_duration_seconds_count", { status: "failure" })).toBe(0);
    expect(get("gantry_idle_stops_total").map((v) => [v.labels.reason, v.value])).toEqual([["idle", 0], ["budget", 0]]);
    expect(get("gantry_proxy_bytes_total").map((v) => [v.labels.direction, v.value])).toEqual([["to_workspace", 0], ["from_workspace", 0]]);

    m.observeAction("launch", "success", 3);
    m.observeAction("start", "success", 2);
    m.observeAction("start", "failure", 1);
    m.observeAction("stop", "success", 0.7);
    m.observeAction("reset", "success", 4);
    m.observeAction("delete", "success", 1); // not a histogram of its own
    m.countIdleStop("idle");
    m.countIdleStop("budget");
    m.countIdleStop("idle");
    m.countProxyBytes(100, 2500);
    m.observeRequest({ method: "GET", route: "/api/workspaces/[id]", code: "200" }, 0.02);
    get = await scrape(m);
    const spawn = get("gantry_workspace_spawn_duration_seconds");
    expect(count(spawn, "gantry_workspace_spawn_duration_seconds_count", { status: "success" })).toBe(2);
    expect(count(spawn, "gantry_workspace_spawn_duration_seconds_sum", { status: "success" })).toBe(5);
    expect(count(spawn, "gantry_workspace_spawn_duration_seconds_count", { status: "failure" })).toBe(1);
    expect(count(spawn, "gantry_workspace_spawn_duration_seconds_bucket", { status: "success", le: "2.5" })).toBe(1);
    expect(count(get("gantry_workspace_stop_duration_seconds"), "gantry_workspace_stop_duration_seconds_count", { status: "success" })).toBe(1);
    expect(count(get("gantry_workspace_reset_duration_seconds"), "gantry_workspace_reset_duration_seconds_count", { status: "success" })).toBe(1);
    expect(get("gantry_idle_stops_total").map((v) => [v.labels.reason, v.value])).toEqual([["idle", 2], ["budget", 1]]);
    expect(get("gantry_proxy_bytes_total").map((v) => [v.labels.direction, v.value])).toEqual([["to_workspace", 100], ["from_workspace", 2500]]);
    const req = get("gantry_request_duration_seconds");
    expect(count(req, "gantry_request_duration_seconds_count", { method: "GET", route: "/api/workspaces/[id]", code: "200" })).toBe(1);
  });

  it("count open event streams up and down", async () => {
    const m = createMetrics({ readState: async () => STATE });
    let get = await scrape(m);
    expect(get("gantry_event_stream_clients").map((v) => v.value)).toEqual([0]);
    for (let i = 0; i < 3; i++) m.countEventStreamClients(1);
    m.countEventStreamClients(-1);
    get = await scrape(m);
    expect(get("gantry_event_stream_clients").map((v) => v.value)).toEqual([2]);
  });

  it("render the text format with prom-client's content type", async () => {
    const m = createMetrics({ readState: async () => STATE, defaultMetrics: true });
    const { contentType, body } = await m.render();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain("# TYPE gantry_workspace_spawn_duration_seconds histogram");
    expect(body).toContain('gantry_workspaces{status="stopped"} 3');
    expect(body).toContain("gantry_process_cpu_seconds_total");
  });
});
