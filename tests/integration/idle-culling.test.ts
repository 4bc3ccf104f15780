import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { REPO_ROOT } from "../helpers/paths";
import {
  BUSYBOX_IMAGE,
  isErrorBody,
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  launchJupyterWorkspace,
  startGantry,
  waitFor,
  type GantryEnv,
  type Seeded,
} from "../helpers/workspaces";

// Idle culling on the real engine, with a "minute" of one second (GANTRY_IDLE_MINUTE_MS): a 6-minute timeout with a
// 3-minute warning takes seconds. Three workspaces: one idle (with a GPU reading 0 %), one whose GPU reads 80 %, one
// whose Jupyter kernel runs a long cell. Only the first is warned, kept running once, warned again, and stopped.

const run = promisify(execFile);
const MINUTE_MS = 1000;
let g: GantryEnv;
let telemetryFile: string;
let alice: Seeded;
let bob: Seeded;
let carol: Seeded;
let idle: { id: string; gpuUuid: string };
let gpuBusy: { id: string; gpuUuid: string };
let kernelBusy: { id: string; url: string };
let neverCulled: string;
let kernelId: string;
let hook: http.Server;
const hookBodies: { status: number; body: any }[] = [];

async function launchWithGpu(user: Seeded, name: string, imageId: string) {
  const res = await g.api("/api/workspaces", { token: user.token, json: { name, imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
  if (res.status !== 201) throw new Error(`launch answered ${res.status}: ${res.text}`);
  const ws = await waitFor(`${name} to run`, () => g.api(`/api/workspaces/${res.body.id}`, { token: user.token }), (r) => r.body?.status === "running", 120_000, 500);
  return { id: ws.body.id as string, gpuUuid: ws.body.gpuDevices[0].uuid as string };
}

const view = (user: Seeded, id: string) => g.api(`/api/workspaces/${id}`, { token: user.token });

beforeAll(async () => {
  // The webhook: its first call fails (it must be retried), the rest succeed.
  let calls = 0;
  hook = http.createServer((req, res) => {
    let text = "";
    req.on("data", (c) => (text += c));
    req.on("end", () => {
      const status = calls++ === 0 ? 500 : 200;
      hookBodies.push({ status, body: JSON.parse(text) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "gantry-idle-"));
  telemetryFile = path.join(dir, "telemetry.csv");
  fs.writeFileSync(telemetryFile, "");
  g = await startGantry({
    prefix: "gantry-idle-",
    env: {
      GANTRY_IDLE_MINUTE_MS: String(MINUTE_MS),
      GANTRY_IDLE_CHECK_MS: "250",
      GANTRY_TELEMETRY_INTERVAL_MS: "250",
      GANTRY_FAKE_GPU_TELEMETRY: telemetryFile,
    },
  });
  [alice, bob, carol] = [await g.seedUser("alice"), await g.seedUser("bob"), await g.seedUser("carol")];
  const busybox = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  const jupyter = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  [idle, gpuBusy] = await Promise.all([launchWithGpu(alice, "idle", busybox), launchWithGpu(bob, "training", busybox)]);
  fs.writeFileSync(telemetryFile, `${gpuBusy.gpuUuid}, 80, 30000, 70, 280\n`);
  kernelBusy = await launchJupyterWorkspace(g, carol.token, { name: "notebook", imageId: jupyter });
  // An image whose own timeout is 0: its workspaces are never stopped for idleness, whatever the host's setting.
  const never = await g.api("/api/admin/images", { token: g.adminToken, json: { name: "never-idle", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND, idleTimeoutMinutes: 0 } });
  expect(never.status, never.text).toBe(201);
  const quiet = await g.api("/api/workspaces", { token: carol.token, json: { name: "service", imageId: never.body.id, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
  expect(quiet.status, quiet.text).toBe(201);
  neverCulled = quiet.body.id;
  await waitFor("service to run", () => view(carol, neverCulled), (r) => r.body?.status === "running", 120_000, 500);
  const { stdout } = await run("/usr/bin/python3", [path.join(REPO_ROOT, "tests", "fixtures", "jupyter-busy-kernel.py"), kernelBusy.url, carol.token, "3600"], { timeout: 90_000 });
  const started = JSON.parse(stdout.trim().split("\n").pop()!);
  expect(started).toMatchObject({ state: "busy" });
  kernelId = started.kernel;
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
  hook?.close();
});

describe("idle settings", () => {
  it("refuses values out of range with 422 and changes nothing", async () => {
    for (const idleCulling of [
      { timeoutMinutes: -1 },
      { timeoutMinutes: 1e9 },
      { timeoutMinutes: 1.5 },
      { gpuThresholdPercent: 101 },
      { gpuThresholdPercent: -5 },
      { maxSnoozes: -1 },
      { webhookUrl: "ftp://example.com/hook" },
      { webhookUrl: "javascript:alert(1)" },
      { webhookUrl: "not a url" },
      { timeoutMinutes: 10, warningMinutes: 10 },
    ]) {
      const res = await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { idleCulling } });
      expect(res.status, JSON.stringify(idleCulling)).toBe(422);
      expect(isErrorBody(res.body, "validation_failed")).toBe(true);
    }
    const now = await g.api("/api/admin/settings", { token: g.adminToken });
    expect(now.body.idleCulling).toMatchObject({ timeoutMinutes: 0, webhookUrl: null });
  });

  it("an image's own timeout is checked the same way", async () => {
    const res = await g.api("/api/admin/images", { token: g.adminToken, json: { name: "bad", ref: BUSYBOX_IMAGE, idleTimeoutMinutes: -3 } });
    expect(res.status).toBe(422);
  });
});

describe("idle culling", () => {
  it("warns the idle workspace, takes one Keep running, warns again, refuses a second, and stops it: not deleted, GPU free", async () => {
    const on = await g.api("/api/admin/settings", {
      method: "PUT",
      token: g.adminToken,
      json: { idleCulling: { timeoutMinutes: 6, warningMinutes: 3, gpuThresholdPercent: 50, maxSnoozes: 1, webhookUrl: `http://127.0.0.1:${(hook.address() as any).port}/hook` } },
    });
    expect(on.status, on.text).toBe(200);
    const audit = await g.api("/api/admin/audit?page=1&pageSize=20", { token: g.adminToken });
    expect(JSON.stringify(audit.body.events.find((e: any) => e.action === "settings.update"))).not.toContain("/hook");

    const warned = await waitFor("a warning", () => view(alice, idle.id), (r) => r.body?.idle !== null, 15_000, 100);
    expect(warned.body.idle).toMatchObject({ reason: "idle", snoozes: 0 });
    expect(Date.parse(warned.body.idle.stopAt) - Date.now()).toBeGreaterThan(1000);

    // Someone else cannot press it; the owner can, once.
    expect((await g.api(`/api/workspaces/${idle.id}/keep-running`, { token: bob.token, method: "POST" })).status).toBe(404);
    const kept = await g.api(`/api/workspaces/${idle.id}/keep-running`, { token: alice.token, method: "POST" });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body).toMatchObject({ status: "running", idle: null });

    const again = await waitFor("a second warning", () => view(alice, idle.id), (r) => r.body?.idle !== null, 15_000, 100);
    expect(again.body.idle).toMatchObject({ snoozes: 1 });
    const refused = await g.api(`/api/workspaces/${idle.id}/keep-running`, { token: alice.token, method: "POST" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/pressed Keep running 1 times/);

    const stopped = await waitFor("the stop", () => view(alice, idle.id), (r) => r.body?.status === "stopped", 15_000, 100);
    expect(stopped.body.statusMessage).toMatch(/^Stopped after \d+ minutes idle$/);
    expect(Number(/(\d+) minutes/.exec(stopped.body.statusMessage)![1])).toBeGreaterThanOrEqual(6);
    expect(stopped.body.gpuDevices).toEqual([]);
    const gpus = await g.api("/api/admin/gpus", { token: g.adminToken });
    expect(gpus.body.find((x: any) => x.uuid === idle.gpuUuid).workspaceId).toBeNull();
    // Counted for Prometheus.
    const made = await g.api("/api/admin/settings/metrics-token", { method: "POST", token: g.adminToken });
    expect(made.status, made.text).toBe(201);
    const metrics = await (await fetch(`${g.url}/metrics`, { headers: { authorization: `Bearer ${made.body.token}` } })).text();
    expect(metrics).toMatch(/^gantry_idle_stops_total\{reason="idle"\} 1$/m);
  }, 60_000);

  it("audits the warnings and the stop as system:idle-culler, and the ledger's interval ends with 'idle'", async () => {
    const audit = await g.api("/api/admin/audit?page=1&pageSize=100", { token: g.adminToken });
    const mine = audit.body.events.filter((e: any) => e.targetId === idle.id);
    expect(mine.filter((e: any) => e.action === "workspace.idle_warning").map((e: any) => e.actorEmail)).toEqual(["system:idle-culler", "system:idle-culler"]);
    expect(mine.find((e: any) => e.action === "workspace.keep_running")).toMatchObject({ actorId: alice.id });
    expect(mine.find((e: any) => e.action === "workspace.stop")).toMatchObject({ actorEmail: "system:idle-culler", after: { reason: "idle" } });
    const conn = new Database(path.join(g.dataDir.path, "gantry.db"), { readonly: true });
    try {
      const rows = conn.prepare("SELECT endReason, endedAt FROM UsageInterval WHERE workspaceId = ?").all(idle.id) as any[];
      expect(rows).toHaveLength(1);
      expect(rows[0].endReason).toBe("idle");
    } finally {
      conn.close();
    }
  });

  it("posts Slack-compatible JSON to the webhook, and retries the call that failed", async () => {
    await waitFor("the stop on the webhook", async () => hookBodies, (b) => b.some((x) => x.body.gantry.event === "idle-stop"), 10_000, 100);
    const events = hookBodies.map((b) => [b.status, b.body.gantry.event]);
    // The first warning failed once and came again; then the second warning, then the stop.
    expect(events).toEqual([
      [500, "idle-warning"],
      [200, "idle-warning"],
      [200, "idle-warning"],
      [200, "idle-stop"],
    ]);
    expect(hookBodies[0].body.text).toContain(alice.email);
    expect(hookBodies[3].body).toMatchObject({ text: expect.stringMatching(/stopped after \d+ minutes idle/), gantry: { workspace: { id: idle.id, name: "idle" } } });
  });

  it("never warns a workspace whose GPU is above the threshold, one whose kernel is busy, nor one whose image opts out", async () => {
    // Both have been quiet otherwise for longer than the timeout by now.
    await new Promise((r) => setTimeout(r, 8 * MINUTE_MS));
    for (const [user, id] of [
      [bob, gpuBusy.id],
      [carol, kernelBusy.id],
      [carol, neverCulled],
    ] as const) {
      const r = await view(user, id);
      expect(r.body).toMatchObject({ status: "running", idle: null });
    }
    const audit = await g.api("/api/admin/audit?page=1&pageSize=100", { token: g.adminToken });
    expect(audit.body.events.filter((e: any) => e.action === "workspace.idle_warning" && e.targetId !== idle.id)).toEqual([]);
    // The image's 0 holds against the host's timeout to the end.
    expect((await view(carol, neverCulled)).body).toMatchObject({ status: "running", idle: null });
  }, 30_000);

  it("culls the notebook once its kernel is interrupted and sits idle", async () => {
    const interrupted = await fetch(`${kernelBusy.url}api/kernels/${kernelId}/interrupt`, { method: "POST", headers: { authorization: `token ${carol.token}` } });
    expect(interrupted.status).toBe(204);
    const warned = await waitFor("its warning", () => view(carol, kernelBusy.id), (r) => r.body?.idle !== null, 20_000, 100);
    expect(warned.body.idle.reason).toBe("idle");
  }, 30_000);

  it("culls the GPU workspace once its GPU goes quiet", async () => {
    fs.writeFileSync(telemetryFile, `${gpuBusy.gpuUuid}, 3, 30000, 40, 60\n`);
    const warned = await waitFor("its warning", () => view(bob, gpuBusy.id), (r) => r.body?.idle !== null, 20_000, 100);
    expect(warned.body.idle.reason).toBe("idle");
  }, 30_000);
});
