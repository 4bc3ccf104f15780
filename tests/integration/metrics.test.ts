import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths";
import { jupyterMessage, seedLoginUser, type LoginUser } from "../helpers/proxy";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { BUSYBOX_IMAGE, JUPYTER_COMMAND, JUPYTER_IMAGE, callApi, isErrorBody, launchJupyterWorkspace, startGantry, waitFor, type GantryEnv } from "../helpers/workspaces";
import { openWebSocket } from "../helpers/ws-client";

// GET /metrics end to end: a real server, a real Jupyter container, the admin's metrics token through the settings
// API, and every answer read by the Prometheus project's own text-format parser (prometheus_client.parser, Debian's
// python3-prometheus-client; tests/fixtures/parse-prometheus.py). What the gauges say is checked against the API.

// Debian's interpreter, where python3-prometheus-client is installed (scripts/ci/install-prereqs.sh).
const PYTHON = "/usr/bin/python3";
const PARSER = path.join(REPO_ROOT, "tests", "fixtures", "parse-prometheus.py");

type Sample = { name: string; labels: Record<string, string>; value: number | string | null };
/** A metric family as prometheus_client names it: counters without their _total, samples with their suffixes. */
type Family = { name: string; type: string; help: string; samples: Sample[] };
type Scrape = { text: string; families: Family[]; samples: Sample[] };

let g: GantryEnv;
let alice: LoginUser;
let jupyterImageId: string;
let metricsToken: string;

function parseExposition(text: string): Family[] {
  const out = spawnSync(PYTHON, [PARSER], { input: text, encoding: "utf8", timeout: 30_000 });
  if (out.status !== 0) throw new Error(`the Prometheus parser refused /metrics (exit ${out.status}): ${out.stderr}`);
  return JSON.parse(out.stdout) as Family[];
}

async function scrape(token = metricsToken): Promise<Scrape> {
  const res = await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  expect(res.status, text.slice(0, 300)).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4; charset=utf-8/);
  const families = parseExposition(text);
  return { text, families, samples: families.flatMap((f) => f.samples) };
}

/** The family a metric name belongs to (a counter's family drops the _total). */
function family(s: Scrape, metric: string): Family {
  const f = s.families.find((x) => x.name === metric || `${x.name}_total` === metric);
  if (!f) throw new Error(`no metric family ${metric} in /metrics`);
  return f;
}

/** One sample's value, by its full name (e.g. x_count, y_total) and labels (those given must match). */
function value(s: Scrape, name: string, labels: Record<string, string> = {}): number {
  const sample = s.samples.find((m) => m.name === name && Object.entries(labels).every(([k, v]) => m.labels[k] === v));
  if (!sample) throw new Error(`no sample ${name} with ${JSON.stringify(labels)} in /metrics`);
  return Number(sample.value);
}

const histogramCount = (s: Scrape, name: string, status: string) => value(s, `${name}_count`, { status });
const routeLabels = (s: Scrape) => s.samples.filter((m) => m.name === "gantry_request_duration_seconds_count").map((m) => m.labels);

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-metrics-" });
  alice = await seedLoginUser(g, "alice");
  jupyterImageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("turning metrics on and off", () => {
  it("answers 404 with a sentence while no metrics token exists, whatever is sent", async () => {
    const tries: Record<string, string>[] = [{}, { authorization: "Bearer gnm_guess" }, { authorization: `Bearer ${g.adminToken}` }];
    for (const headers of tries) {
      const res = await callApi(g.url, "/metrics", { headers });
      expect(res.status, res.text).toBe(404);
      expect(isErrorBody(res.body, "not_found"), res.text).toBe(true);
      expect(res.body.error.message).toMatch(/not enabled/);
    }
    const status = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken });
    expect(status.body).toEqual({ enabled: false, prefix: null, createdAt: null });
  });

  it("only an admin can make the token (a user gets 403 and nothing changes)", async () => {
    const res = await g.api("/api/admin/settings/metrics-token", { token: alice.token, json: {} });
    expect(res.status).toBe(403);
    const status = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken });
    expect(status.body.enabled).toBe(false);
  });

  it("an admin makes the token through the settings API; it is shown once and appears in no settings answer", async () => {
    const res = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken, method: "POST" });
    expect(res.status, res.text).toBe(201);
    metricsToken = res.body.token;
    expect(metricsToken).toMatch(/^gnm_[A-Za-z0-9_-]{43}$/);
    expect(res.body).toMatchObject({ enabled: true, prefix: metricsToken.slice(0, 10) });
    const status = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken });
    expect(status.body).toMatchObject({ enabled: true, prefix: metricsToken.slice(0, 10) });
    const settings = await g.api("/api/admin/settings", { token: g.adminToken });
    for (const text of [status.text, settings.text]) expect(text).not.toContain(metricsToken);
    expect(settings.text).not.toMatch(/metrics/i);
  });

  it("a wrong or missing token is 401 in the API's error shape", async () => {
    const wrong: Record<string, string>[] = [
      {},
      { authorization: "Bearer gnm_" + "x".repeat(43) },
      { authorization: `Bearer ${metricsToken}x` },
      { authorization: `Bearer ${g.adminToken}` },
      { authorization: `Basic ${Buffer.from(`x:${metricsToken}`).toString("base64")}` },
      { authorization: metricsToken },
    ];
    for (const headers of wrong) {
      const res = await callApi(g.url, "/metrics", { headers });
      expect(res.status, `${JSON.stringify(headers)}: ${res.text}`).toBe(401);
      expect(isErrorBody(res.body, "unauthorized"), res.text).toBe(true);
    }
  });

  it("the right token gets the text format, which parses, with every metric typed", async () => {
    const s = await scrape();
    const expected: Record<string, string> = {
      gantry_total_users: "gauge",
      gantry_workspaces: "gauge",
      gantry_running_workspaces: "gauge",
      gantry_gpus_total: "gauge",
      gantry_gpus_allocated: "gauge",
      gantry_workspace_spawn_duration_seconds: "histogram",
      gantry_workspace_stop_duration_seconds: "histogram",
      gantry_workspace_reset_duration_seconds: "histogram",
      gantry_idle_stops_total: "counter",
      gantry_request_duration_seconds: "histogram",
      gantry_proxy_bytes_total: "counter",
      gantry_gpu_utilization_percent: "gauge",
      gantry_gpu_memory_used_bytes: "gauge",
      gantry_gpu_memory_total_bytes: "gauge",
      gantry_gpu_temperature_celsius: "gauge",
      gantry_gpu_power_watts: "gauge",
      gantry_process_cpu_seconds_total: "counter",
    };
    for (const [name, type] of Object.entries(expected)) expect(family(s, name).type, name).toBe(type);
    for (const f of s.families) {
      expect(f.type, `${f.name} has no TYPE line`).not.toBe("unknown");
      expect(f.help.length, `${f.name} has no HELP`).toBeGreaterThan(5);
    }
    // No series twice.
    const keys = s.samples.map((m) => `${m.name}${JSON.stringify(Object.entries(m.labels).sort())}`);
    expect(new Set(keys).size).toBe(keys.length);
    // The idle culler's counter exists before the culler does, at 0 for each reason.
    expect(value(s, "gantry_idle_stops_total", { reason: "idle" })).toBe(0);
    expect(value(s, "gantry_idle_stops_total", { reason: "budget" })).toBe(0);
    // The admin and alice.
    const users = await g.api("/api/admin/users", { token: g.adminToken });
    expect(users.status).toBe(200);
    expect(value(s, "gantry_total_users")).toBe(users.body.length);
    expect(value(s, "gantry_total_users")).toBe(2);
    // The stand-in nvidia-smi's GPUs, none held yet.
    const gpus = await g.api("/api/admin/gpus", { token: g.adminToken });
    expect(value(s, "gantry_gpus_total")).toBe(gpus.body.length);
    expect(value(s, "gantry_gpus_allocated")).toBe(0);
  });

  it("per-GPU gauges carry the telemetry sampler's readings, labelled by index and UUID only", async () => {
    const view = await waitFor("live telemetry", () => g.api("/api/admin/gpus/telemetry", { token: g.adminToken }), (r) => r.body?.live?.length > 0, 15_000, 200);
    const s = await scrape();
    for (const live of view.body.live) {
      const labels = { gpu: String(live.index), uuid: live.uuid };
      expect(value(s, "gantry_gpu_memory_total_bytes", labels)).toBe(live.memoryTotalMb * 1024 * 1024);
      expect(value(s, "gantry_gpu_utilization_percent", labels)).toBeGreaterThanOrEqual(0);
      expect(value(s, "gantry_gpu_temperature_celsius", labels)).toBeGreaterThan(0);
    }
    const gpuSeries = s.samples.filter((m) => m.name.startsWith("gantry_gpu_utilization"));
    expect(gpuSeries.map((m) => Object.keys(m.labels).sort())).toEqual(view.body.live.map(() => ["gpu", "uuid"]));
  });
});

describe("what a launch, a request through the proxy and a stop leave in the metrics", () => {
  let before: Scrape;
  let running: Scrape;
  let after: Scrape;
  let workspace: { id: string; url: string };
  let wsOpen: Scrape;
  let wsGrowth: { to: number; from: number };
  const WS_BYTES = 20_000;

  beforeAll(async () => {
    before = await scrape();
    workspace = await launchJupyterWorkspace(g, alice.token, { name: "metered", imageId: jupyterImageId });
    // Through the proxy with alice's API token, as a Jupyter client would.
    const res = await fetch(`${workspace.url}api/status`, { headers: { authorization: `token ${alice.token}` } });
    expect(res.status, await res.text()).toBe(200);
    running = await scrape();

    // A kernel WebSocket through the proxy: 20 KB of code in, 20 KB of output back, counted while the socket is open.
    const auth = { authorization: `token ${alice.token}` };
    const kernel = await fetch(`${workspace.url}api/kernels`, { method: "POST", headers: { ...auth, "content-type": "application/json" }, body: '{"name":"python3"}' });
    expect(kernel.status).toBe(201);
    const kernelId = ((await kernel.json()) as { id: string }).id;
    const session = crypto.randomUUID();
    const sock = await openWebSocket(`${workspace.url.replace("http", "ws")}api/kernels/${kernelId}/channels?session_id=${session}`, auth);
    if (!sock.ok) throw new Error(`the kernel WebSocket was refused: ${JSON.stringify(sock)}`);
    const afterKernel = await scrape();
    const code = `x = "${"a".repeat(WS_BYTES)}"\nprint("b" * ${WS_BYTES})`;
    const exec = jupyterMessage("execute_request", { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true }, session);
    sock.sendText(JSON.stringify(exec));
    await sock.waitFor("the 20 KB of output", (m) => m.text.includes('"stream"') && m.text.includes("b".repeat(1000)), 60_000);
    const grew = (s: Scrape, direction: string) => value(s, "gantry_proxy_bytes_total", { direction }) - value(afterKernel, "gantry_proxy_bytes_total", { direction });
    wsOpen = await waitFor("the open WebSocket's bytes in /metrics", () => scrape(), (s) => grew(s, "to_workspace") >= WS_BYTES && grew(s, "from_workspace") >= WS_BYTES, 20_000, 1000);
    wsGrowth = { to: grew(wsOpen, "to_workspace"), from: grew(wsOpen, "from_workspace") };
    sock.close();
    await sock.closed;

    const stopped = await g.api(`/api/workspaces/${workspace.id}/stop`, { token: alice.token, method: "POST" });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body.status).toBe("stopped");
    after = await scrape();
  }, 300_000);

  it("the spawn histogram counted the launch, the stop histogram the stop, both as successes", () => {
    const spawn = "gantry_workspace_spawn_duration_seconds";
    const stop = "gantry_workspace_stop_duration_seconds";
    expect(histogramCount(running, spawn, "success")).toBe(histogramCount(before, spawn, "success") + 1);
    expect(histogramCount(after, stop, "success")).toBe(histogramCount(before, stop, "success") + 1);
    expect(histogramCount(after, spawn, "failure")).toBe(histogramCount(before, spawn, "failure"));
    // The sum is in seconds: a container start is more than nothing and less than the test's timeout.
    const sum = value(running, `${spawn}_sum`, { status: "success" });
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(300);
  });

  it("workspaces by status match the API: one running, then one stopped; every status has a series", async () => {
    expect(value(running, "gantry_workspaces", { status: "running" })).toBe(1);
    expect(value(running, "gantry_running_workspaces")).toBe(1);
    const all = await g.api<{ status: string }[]>("/api/workspaces?all=1", { token: g.adminToken });
    expect(all.status).toBe(200);
    const stoppedCount = all.body.filter((w) => w.status === "stopped").length;
    expect(stoppedCount).toBe(1);
    expect(value(after, "gantry_workspaces", { status: "stopped" })).toBe(stoppedCount);
    expect(value(after, "gantry_workspaces", { status: "running" })).toBe(0);
    expect(value(after, "gantry_running_workspaces")).toBe(0);
    const statuses = family(after, "gantry_workspaces").samples.map((m) => m.labels.status).sort();
    expect(statuses).toEqual(["deleting", "error", "pulling", "resetting", "running", "starting", "stopped", "stopping"]);
  });

  it("the proxy counted bytes both ways for the request into the workspace", () => {
    for (const direction of ["to_workspace", "from_workspace"]) {
      const b = value(before, "gantry_proxy_bytes_total", { direction });
      const r = value(running, "gantry_proxy_bytes_total", { direction });
      expect(r, direction).toBeGreaterThan(b);
    }
    // The request and its answer at least: a request line and headers out, a JSON status and headers back.
    expect(value(running, "gantry_proxy_bytes_total", { direction: "from_workspace" }) - value(before, "gantry_proxy_bytes_total", { direction: "from_workspace" })).toBeGreaterThan(100);
  });

  it("an open kernel WebSocket's traffic is counted both ways while it is open", () => {
    expect(wsGrowth.to).toBeGreaterThanOrEqual(WS_BYTES);
    expect(wsGrowth.from).toBeGreaterThanOrEqual(WS_BYTES);
    // Counted once: not several times over (a socket counted per sweep adds only what is new).
    expect(wsGrowth.to).toBeLessThan(WS_BYTES * 3);
    expect(wsGrowth.from).toBeLessThan(WS_BYTES * 3);
    expect(value(after, "gantry_proxy_bytes_total", { direction: "to_workspace" })).toBeGreaterThanOrEqual(value(wsOpen, "gantry_proxy_bytes_total", { direction: "to_workspace" }));
  });

  it("request durations are labelled by route template only: no workspace id, no raw path", () => {
    const routes = new Set(routeLabels(after).map((l) => l.route));
    expect(routes).toContain("/api/workspaces/[id]/stop");
    expect(routes).toContain("/api/workspaces");
    expect(routes).toContain("/metrics");
    for (const r of routes) {
      expect(r).not.toContain(workspace.id);
      expect(r === "unmatched" || r === "/_next/*" || r.startsWith("/"), r).toBe(true);
      expect(r, `${r} is not a template`).not.toMatch(/\/ws[0-9a-f]{20}|\/c[a-z0-9]{20,}/);
    }
    // Nothing anywhere in the answer names the workspace (no per-request label anywhere).
    expect(after.text).not.toContain(workspace.id);
    const methods = new Set(routeLabels(after).map((l) => l.method));
    for (const m of methods) expect(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"]).toContain(m);
  });

  it("an unknown path and an odd method get the fixed labels", async () => {
    const page = await fetch(`${g.url}/no/such/page/${workspace.id}`, { redirect: "manual" });
    await page.text();
    const odd = await fetch(`${g.url}/api/health`, { method: "PROPFIND" });
    await odd.text();
    const s = await scrape();
    const labels = routeLabels(s);
    const seen = JSON.stringify(labels);
    expect(labels.some((l) => l.route === "unmatched" && l.method === "GET" && l.code === String(page.status)), seen).toBe(true);
    expect(labels.some((l) => l.route === "/api/health" && l.method === "other" && l.code === String(odd.status)), seen).toBe(true);
    expect(s.text).not.toContain(workspace.id);
  });
});

describe("GPUs", () => {
  it("gantry_gpus_allocated follows the GPUs a workspace holds, as GET /api/admin/gpus shows them", async () => {
    const imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
    const held = async () => (await g.api<{ workspaceId: string | null }[]>("/api/admin/gpus", { token: g.adminToken })).body.filter((x) => x.workspaceId).length;
    const launched = await g.api("/api/workspaces", { token: alice.token, json: { name: "gpu", imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
    expect(launched.status, launched.text).toBe(201);
    const running = await scrape();
    expect(await held()).toBe(1);
    expect(value(running, "gantry_gpus_allocated")).toBe(1);
    expect(value(running, "gantry_gpus_total")).toBeGreaterThanOrEqual(1);
    const stopped = await g.api(`/api/workspaces/${launched.body.id}/stop`, { token: alice.token, method: "POST" });
    expect(stopped.status, stopped.text).toBe(200);
    expect(await held()).toBe(0);
    expect(value(await scrape(), "gantry_gpus_allocated")).toBe(0);
  });
});

describe("replacing and removing the token", () => {
  it("a new token replaces the old one at once; removing it turns metrics off (404)", async () => {
    const old = metricsToken;
    const res = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken, method: "POST" });
    expect(res.status).toBe(201);
    metricsToken = res.body.token;
    expect(metricsToken).not.toBe(old);
    expect((await callApi(g.url, "/metrics", { headers: { authorization: `Bearer ${old}` } })).status).toBe(401);
    await scrape(metricsToken);

    const removed = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken, method: "DELETE" });
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ enabled: false, prefix: null, createdAt: null });
    const off = await callApi(g.url, "/metrics", { headers: { authorization: `Bearer ${metricsToken}` } });
    expect(off.status).toBe(404);
    expect(isErrorBody(off.body, "not_found")).toBe(true);
  });

  it("each change is in the audit log, by prefix; no token is in the audit log or the server's log", async () => {
    const audit = await g.api("/api/admin/audit?pageSize=100", { token: g.adminToken });
    expect(audit.status, audit.text).toBe(200);
    const actions = audit.body.events.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(["settings.metrics_token.create", "settings.metrics_token.rotate", "settings.metrics_token.remove"]));
    const rotate = audit.body.events.find((e: { action: string }) => e.action === "settings.metrics_token.rotate");
    expect(rotate.after).toEqual({ prefix: metricsToken.slice(0, 10) });
    expect(rotate.actorEmail).toBe("admin@gantry.test");
    expect(audit.text).not.toContain(metricsToken);
    expect(audit.text).not.toMatch(/gnm_[A-Za-z0-9_-]{43}/);
    const log = g.server.stdout() + g.server.stderr();
    expect(log).not.toMatch(/gnm_[A-Za-z0-9_-]{43}/);
  });
});

describe("settings out of range", () => {
  it("answer 422 and change nothing", async () => {
    const before = await g.api("/api/admin/settings", { token: g.adminToken });
    const bad: (Record<string, unknown> | string)[] = [
      { defaultQuota: { maxGpus: -1, maxMemoryGb: 16, maxCpus: 4, maxWorkspaces: 3 } },
      { defaultQuota: { maxGpus: 1, maxMemoryGb: 1e6, maxCpus: 4, maxWorkspaces: 3 } },
      { hostReserve: { memoryGb: -2, cpus: 1 } },
      { shmSizeGb: 5000 },
      { shmSizeGb: "8" },
      { shmSizeGb: 0.3 },
      '{"shmSizeGb": 1e309}',
      { metricsToken: "gnm_mine" },
    ];
    for (const body of bad) {
      const res = await g.api("/api/admin/settings", { token: g.adminToken, method: "PUT", ...(typeof body === "string" ? { body } : { json: body }) });
      expect(res.status, `${JSON.stringify(body)}: ${res.text}`).toBe(422);
      expect(isErrorBody(res.body, "validation_failed"), res.text).toBe(true);
    }
    // The token route takes no body: a field sent there is refused, not ignored.
    const token = await g.api("/api/admin/settings/metrics-token", { token: g.adminToken, json: { token: "gnm_chosen-by-me" } });
    expect(token.status, token.text).toBe(422);
    expect((await g.api("/api/admin/settings/metrics-token", { token: g.adminToken })).body.enabled).toBe(false);
    const after = await g.api("/api/admin/settings", { token: g.adminToken });
    expect(after.body).toEqual(before.body);
  });
});
