import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { BUSYBOX_IMAGE, isErrorBody, startGantry, waitFor, type GantryEnv, type Seeded } from "../helpers/workspaces";

// GPU-hour budgets on the real engine. A budget of 0.002 GPU-hours is 7.2 s of one GPU; the warning's lead time is
// 3 "minutes" of a second each (GANTRY_IDLE_MINUTE_MS): the workspace is warned about 3 s before the budget runs out,
// then stopped when it does. Idle culling itself stays off.

const BUDGET = 0.002;
let g: GantryEnv;
let dave: Seeded;
let imageId: string;
let ws: { id: string; gpuUuid: string };

const quota = (gpuHoursBudget: number | null, budgetPeriod = "week") => ({ maxGpus: 1, maxMemoryGb: 4, maxCpus: 2, maxWorkspaces: 3, gpuHoursBudget, budgetPeriod });
const launch = (name: string, gpus: number) => g.api("/api/workspaces", { token: dave.token, json: { name, imageId, gpus, memoryGb: 0.5, cpus: 0.5 } });

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-budget-", env: { GANTRY_IDLE_MINUTE_MS: "1000", GANTRY_IDLE_CHECK_MS: "250" } });
  dave = await g.seedUser("dave");
  imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  const on = await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { idleCulling: { warningMinutes: 3 } } });
  expect(on.status, on.text).toBe(200);
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("GPU-hour budgets in the quota", () => {
  it("refuses budgets that are not a number of hours per week or month (422), and keeps the quota", async () => {
    for (const bad of [quota(-1), quota(2e6), { ...quota(5), budgetPeriod: "year" }, { ...quota(5), gpuHoursBudget: "5" }]) {
      const res = await g.api(`/api/admin/users/${dave.id}/quota`, { method: "PUT", token: g.adminToken, json: bad });
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect(isErrorBody(res.body, "validation_failed")).toBe(true);
    }
    const now = await g.api(`/api/admin/users/${dave.id}/quota`, { token: g.adminToken });
    expect(now.body.quota).toMatchObject({ gpuHoursBudget: null, budgetPeriod: "week" });
    expect(now.body.budget).toBeNull();
  });

  it("a new user gets the default quota's budget", async () => {
    const set = await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { defaultQuota: quota(40, "month") } });
    expect(set.status, set.text).toBe(200);
    const erin = await g.seedUser("erin");
    const q = await g.api(`/api/admin/users/${erin.id}/quota`, { token: g.adminToken });
    expect(q.body.quota).toMatchObject({ gpuHoursBudget: 40, budgetPeriod: "month" });
    expect(q.body.budget).toMatchObject({ budget: 40, period: "month", used: 0, left: 40 });
  });

  it("warns a running GPU workspace before the budget runs out, refuses Keep running, and stops it when it does", async () => {
    const set = await g.api(`/api/admin/users/${dave.id}/quota`, { method: "PUT", token: g.adminToken, json: quota(BUDGET) });
    expect(set.status, set.text).toBe(200);
    const res = await launch("train", 1);
    expect(res.status, res.text).toBe(201);
    const running = await waitFor("running", () => g.api(`/api/workspaces/${res.body.id}`, { token: dave.token }), (r) => r.body?.status === "running", 60_000, 200);
    ws = { id: running.body.id, gpuUuid: running.body.gpuDevices[0].uuid };
    const started = Date.parse(running.body.startedAt);

    const warned = await waitFor("the budget warning", () => g.api(`/api/workspaces/${ws.id}`, { token: dave.token }), (r) => r.body?.idle !== null, 15_000, 100);
    expect(warned.body.idle.reason).toBe("budget");
    // The stop is when the budget runs out: 7.2 s of one GPU after the start (give or take the ledger's clock).
    expect(Math.abs(Date.parse(warned.body.idle.stopAt) - (started + BUDGET * 3_600_000))).toBeLessThan(1500);
    const keep = await g.api(`/api/workspaces/${ws.id}/keep-running`, { method: "POST", token: dave.token });
    expect(keep.status).toBe(409);
    expect(keep.body.error.message).toMatch(/GPU-hour budget is used up/);
    // Nor does a reset put the stop off: the warning outlives it, the same moment.
    const reset = await g.api(`/api/workspaces/${ws.id}/reset`, { method: "POST", token: dave.token });
    expect(reset.status, reset.text).toBe(200);
    const afterReset = await waitFor("the reset to settle", () => g.api(`/api/workspaces/${ws.id}`, { token: dave.token }), (r) => r.body?.status !== "resetting", 20_000, 100);
    if (afterReset.body.status === "running") expect(afterReset.body.idle).toMatchObject({ reason: "budget", stopAt: warned.body.idle.stopAt });

    const stopped = await waitFor("the stop", () => g.api(`/api/workspaces/${ws.id}`, { token: dave.token }), (r) => r.body?.status === "stopped", 20_000, 100);
    expect(stopped.body.statusMessage).toBe("Stopped: the GPU-hour budget (0.002 per week) is used up");
  }, 60_000);

  it("the stop is the runner's, as system:idle-culler; the ledger's interval ends with 'budget'; the GPU is free", async () => {
    const audit = await g.api("/api/admin/audit?page=1&pageSize=50", { token: g.adminToken });
    const mine = audit.body.events.filter((e: any) => e.targetId === ws.id);
    expect(mine.find((e: any) => e.action === "workspace.budget_warning")).toMatchObject({ actorEmail: "system:idle-culler" });
    expect(mine.find((e: any) => e.action === "workspace.stop")).toMatchObject({ actorEmail: "system:idle-culler", after: { reason: "budget" } });
    const conn = new Database(path.join(g.dataDir.path, "gantry.db"), { readonly: true });
    try {
      // The reset ended one interval and began the next; the budget ended that one.
      expect((conn.prepare("SELECT endReason FROM UsageInterval WHERE workspaceId = ? ORDER BY startedAt").all(ws.id) as any[]).map((r) => r.endReason)).toEqual(["reset", "budget"]);
    } finally {
      conn.close();
    }
    const gpus = await g.api("/api/admin/gpus", { token: g.adminToken });
    expect(gpus.body.find((x: any) => x.uuid === ws.gpuUuid).workspaceId).toBeNull();
  });

  it("refuses a start or launch with GPUs once it is used up, with quota_exceeded naming the budget; without GPUs it launches", async () => {
    const start = await g.api(`/api/workspaces/${ws.id}/start`, { method: "POST", token: dave.token });
    expect(start.status).toBe(403);
    expect(isErrorBody(start.body, "quota_exceeded")).toBe(true);
    expect(start.body.error.message).toMatch(/GPU-hour budget: 0\.00\d+ of 0\.002 GPU-hours used this week; it starts again \d{4}-\d\d-\d\d 00:00 UTC/);
    const again = await launch("second", 1);
    expect(again.status).toBe(403);
    expect(again.body.error.message).toMatch(/GPU-hour budget/);
    const cpuOnly = await launch("cpu-only", 0);
    expect(cpuOnly.status, cpuOnly.text).toBe(201);
    const q = await g.api(`/api/admin/users/${dave.id}/quota`, { token: g.adminToken });
    expect(q.body.budget.used).toBeGreaterThanOrEqual(BUDGET);
    expect(q.body.budget.left).toBe(0);
  });

  it("raising the budget lets the GPU workspace start again", async () => {
    await g.api(`/api/admin/users/${dave.id}/quota`, { method: "PUT", token: g.adminToken, json: quota(100) });
    const start = await g.api(`/api/workspaces/${ws.id}/start`, { method: "POST", token: dave.token });
    expect(start.status, start.text).toBe(200);
  });
});
