import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { BUSYBOX_IMAGE, SETUP_TIMEOUT_MS, startGantry, unique, waitFor, type GantryEnv, type Seeded } from "../helpers/workspaces";

// The usage ledger through its API, against the real server and engine: intervals open while a workspace holds
// resources, close with the right reason (stop, reset, delete, the main process exiting), and the totals are the sums
// of the intervals clipped to the range.

type Interval = { workspaceId: string; workspaceName: string; gpuUuids: string[]; memoryGb: number; cpus: number; start: string; end: string | null; endReason: string | null };
type MyUsage = { from: string; to: string; totals: { gpuHours: number; cpuHours: number; memoryGbHours: number }; intervals: Interval[] };

const ROOMY = { maxGpus: 4, maxMemoryGb: 64, maxCpus: 64, maxWorkspaces: 100 };
let g: GantryEnv;
let imageId: string;
let exitingImageId: string;
let alice: Seeded;
let bob: Seeded;

async function usage(user: Seeded, query = ""): Promise<MyUsage> {
  const r = await g.api(`/api/me/usage${query}`, { token: user.token });
  expect(r.status, r.text).toBe(200);
  return r.body;
}

function intervalsOf(u: MyUsage, workspaceId: string): Interval[] {
  return u.intervals.filter((i) => i.workspaceId === workspaceId);
}

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-usage-" });
  imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  exitingImageId = await g.addImage({ name: "short-lived", ref: BUSYBOX_IMAGE, command: `sh -c "sleep 2"` });
  alice = await g.seedUser("alice");
  bob = await g.seedUser("bob");
  for (const u of [alice, bob]) {
    const q = await g.api(`/api/admin/users/${u.id}/quota`, { token: g.adminToken, method: "PUT", json: ROOMY });
    expect(q.status, q.text).toBe(200);
  }
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("the usage ledger", () => {
  it("launch opens an interval with the GPUs held; stop, start, reset and delete close and open them with their reasons", async () => {
    const launched = await g.api("/api/workspaces", { token: alice.token, json: { name: "ledger", imageId, gpus: 1, memoryGb: 1, cpus: 0.5 } });
    expect(launched.status, launched.text).toBe(201);
    const id = launched.body.id as string;
    const gpu = launched.body.gpuDevices.map((d: { uuid: string }) => d.uuid);
    expect(gpu).toHaveLength(1);

    let open = intervalsOf(await usage(alice), id);
    expect(open).toEqual([expect.objectContaining({ workspaceName: "ledger", gpuUuids: gpu, memoryGb: 1, cpus: 0.5, end: null, endReason: null })]);

    expect((await g.api(`/api/workspaces/${id}/stop`, { token: alice.token, method: "POST" })).body.status).toBe("stopped");
    expect(intervalsOf(await usage(alice), id)).toEqual([expect.objectContaining({ endReason: "stopped", end: expect.any(String) })]);

    expect((await g.api(`/api/workspaces/${id}/start`, { token: alice.token, method: "POST" })).body.status).toBe("running");
    expect((await g.api(`/api/workspaces/${id}/reset`, { token: alice.token, method: "POST" })).body.status).toBe("running");
    expect((await g.api(`/api/workspaces/${id}`, { token: alice.token, method: "DELETE" })).status).toBe(204);

    const all = intervalsOf(await usage(alice), id);
    expect(all.map((i) => i.endReason)).toEqual(["stopped", "reset", "deleted"]);
    for (const i of all) {
      expect(i.end).not.toBeNull();
      expect(Date.parse(i.end!)).toBeGreaterThanOrEqual(Date.parse(i.start));
    }
    // One interval follows the other: a reset ends one and starts the next at the same moment.
    expect(Date.parse(all[2].start)).toBeGreaterThanOrEqual(Date.parse(all[1].end!));
    open = (await usage(alice)).intervals.filter((i) => i.end === null);
    expect(open).toEqual([]);
  });

  it("a main process that exits on its own closes the interval as 'exited' (the reconciler, through the runner)", async () => {
    const r = await g.api("/api/workspaces", { token: alice.token, json: { name: unique("brief"), imageId: exitingImageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
    expect(r.status, r.text).toBe(201);
    const ws = await waitFor("the workspace to stop by itself", () => g.api(`/api/workspaces/${r.body.id}`, { token: alice.token }), (x) => x.body.status === "stopped", 20_000);
    expect(ws.body.gpuDevices).toEqual([]);
    const [interval] = intervalsOf(await usage(alice), r.body.id);
    expect(interval).toMatchObject({ endReason: "exited" });
    // Closed when Docker says the container stopped, not when Gantry noticed.
    expect(Date.parse(interval.end!) - Date.parse(interval.start)).toBeLessThan(6000);
    expect((await g.api(`/api/workspaces/${r.body.id}`, { token: alice.token, method: "DELETE" })).status).toBe(204);
  });

  it("totals are the intervals clipped to the range; a range before any use is empty", async () => {
    const u = await usage(alice, `?from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}`);
    const from = Date.parse(u.from);
    const to = Math.min(Date.parse(u.to), Date.now());
    const hours = (i: Interval) => (Math.min(i.end ? Date.parse(i.end) : Date.now(), to) - Math.max(Date.parse(i.start), from)) / 3_600_000;
    const expected = u.intervals.reduce((n, i) => n + i.gpuUuids.length * hours(i), 0);
    expect(u.totals.gpuHours).toBeGreaterThan(0);
    expect(Math.abs(u.totals.gpuHours - expected)).toBeLessThan(1e-4);
    expect(Math.abs(u.totals.cpuHours - u.intervals.reduce((n, i) => n + i.cpus * hours(i), 0))).toBeLessThan(1e-4);
    expect(Math.abs(u.totals.memoryGbHours - u.intervals.reduce((n, i) => n + i.memoryGb * hours(i), 0))).toBeLessThan(1e-4);

    const past = await usage(alice, "?from=2020-01-01&to=2020-02-01");
    expect(past).toEqual({ from: "2020-01-01T00:00:00.000Z", to: "2020-02-01T00:00:00.000Z", totals: { gpuHours: 0, cpuHours: 0, memoryGbHours: 0 }, intervals: [] });
  });

  it("a user sees only their own intervals", async () => {
    const b = await usage(bob);
    expect(b.intervals).toEqual([]);
    expect(b.totals.gpuHours).toBe(0);
  });

  it.each([
    ["from after to", "?from=2026-12-02&to=2026-12-01"],
    ["from equal to to", "?from=2026-12-01&to=2026-12-01"],
    ["a range over a year", "?from=2020-01-01&to=2026-01-01"],
    ["a malformed date", "?from=yesterday"],
    ["a date without a zone", "?from=2026-12-01T10:00:00"],
    ["an unknown parameter", "?since=2026-12-01"],
    ["a repeated bogus value", "?to=2026-13-45"],
  ])("refuses %s with 422 validation_failed", async (_what, query) => {
    for (const path of ["/api/me/usage", "/api/admin/usage"]) {
      const r = await g.api(`${path}${query}`, { token: path.includes("admin") ? g.adminToken : alice.token });
      expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status: 422, code: "validation_failed" });
      expect(r.body.error.message.length).toBeGreaterThan(5);
    }
  });

  it("admins get everyone's use grouped by user or by UTC day; others get 403", async () => {
    const byUser = await g.api("/api/admin/usage?groupBy=user&from=2020-01-01&to=2026-12-31", { token: g.adminToken });
    expect(byUser.status, byUser.text).toBe(422); // over a year: refused
    const now = new Date();
    const from = new Date(now.getTime() - 2 * 86_400_000).toISOString();
    const to = new Date(now.getTime() + 60_000).toISOString();
    const users = await g.api(`/api/admin/usage?groupBy=user&from=${from}&to=${to}`, { token: g.adminToken });
    expect(users.status, users.text).toBe(200);
    const row = users.body.rows.find((r: { key: string }) => r.key === alice.id);
    expect(row).toMatchObject({ label: alice.email });
    const mine = await usage(alice, `?from=${from}&to=${to}`);
    expect(Math.abs(row.gpuHours - mine.totals.gpuHours)).toBeLessThan(1e-4);
    expect(users.body.rows.find((r: { key: string }) => r.key === bob.id)).toBeUndefined();

    const days = await g.api(`/api/admin/usage?groupBy=day&from=${from}&to=${to}`, { token: g.adminToken });
    expect(days.status, days.text).toBe(200);
    expect(days.body.rows.length).toBeGreaterThanOrEqual(3);
    for (const r of days.body.rows) expect(r.key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const sum = days.body.rows.reduce((n: number, r: { gpuHours: number }) => n + r.gpuHours, 0);
    const everyone = users.body.rows.reduce((n: number, r: { gpuHours: number }) => n + r.gpuHours, 0);
    expect(Math.abs(sum - everyone)).toBeLessThan(1e-4);

    const refused = await g.api("/api/admin/usage", { token: alice.token });
    expect(refused.status).toBe(403);
  });

  it("the ledger outlives the user: a deleted user's hours stay in the admin's totals", async () => {
    const carol = await g.seedUser("carol");
    await g.api(`/api/admin/users/${carol.id}/quota`, { token: g.adminToken, method: "PUT", json: ROOMY });
    const r = await g.api("/api/workspaces", { token: carol.token, json: { name: "gone-soon", imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
    expect(r.status, r.text).toBe(201);
    await new Promise((res) => setTimeout(res, 300));
    expect((await g.api(`/api/admin/users/${carol.id}`, { token: g.adminToken, method: "DELETE" })).status).toBe(204);
    const users = await g.api(`/api/admin/usage?groupBy=user&from=${new Date(Date.now() - 3_600_000).toISOString()}`, { token: g.adminToken });
    const row = users.body.rows.find((x: { key: string }) => x.key === carol.id);
    expect(row).toMatchObject({ label: carol.email });
    expect(row.gpuHours).toBeGreaterThan(0);
  });
});
