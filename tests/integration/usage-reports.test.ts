import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { csvRecords, insertIntervals, utcDay } from "../helpers/usage-ledger";
import { BUSYBOX_IMAGE, SETUP_TIMEOUT_MS, startGantry, type GantryEnv, type Seeded } from "../helpers/workspaces";

// The usage pages' API against the real server and engine: the reports (days stacked by workspace or user, top users,
// history) and the CSV exports, on ledger rows with known values written into the real database file for past days,
// plus one interval of a real launch and stop. A user only ever sees their own rows; an admin sees everyone's.

type Totals = { gpuHours: number; cpuHours: number; memoryGbHours: number };
type Part = { key: string; label: string } & Totals;
type Day = Part & { parts: Part[] };
type History = { id: string; workspaceId: string; workspaceName: string; userId: string; userEmail: string; gpus: number; start: string; end: string | null; endReason: string | null } & Totals;
type Report = { from: string; to: string; totals: Totals; days: Day[]; series: { key: string; label: string }[]; history: History[] };
type AdminReport = Report & { users: Part[]; topUsers: { from: string; to: string; rows: Part[] } };

const ROOMY = { maxGpus: 4, maxMemoryGb: 64, maxCpus: 64, maxWorkspaces: 100 };
const HOSTILE_NAME = '=HYPERLINK("http://evil.example","click")';
const COMMA_NAME = 'train, "big" run';
const GHOST = { userId: "ghostuser000000000000000", userEmail: "+ghost@evil.test" };

let g: GantryEnv;
let alice: Seeded;
let bob: Seeded;
let realWorkspaceId: string;
// The range every case asks for: 12 days ago up to tomorrow (the API's `to` is exclusive).
const range = () => `from=${utcDay(-12).toISOString().slice(0, 10)}&to=${utcDay(1).toISOString().slice(0, 10)}`;
const dayKey = (days: number) => utcDay(days).toISOString().slice(0, 10);

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-usage-reports-" });
  const imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  alice = await g.seedUser("alice");
  bob = await g.seedUser("bob");
  for (const u of [alice, bob]) {
    const q = await g.api(`/api/admin/users/${u.id}/quota`, { token: g.adminToken, method: "PUT", json: ROOMY });
    expect(q.status, q.text).toBe(200);
  }
  insertIntervals(g.dataDir.databaseFile, [
    // 2 GPUs x 3 h = 6 GPU-h, 3 CPU-h, 12 GB-h, ten days ago.
    { userId: alice.id, userEmail: alice.email, workspaceName: COMMA_NAME, gpus: 2, memoryGb: 4, cpus: 1, startedAt: utcDay(-10, 8), endedAt: utcDay(-10, 11) },
    // 1 GPU x 2 h, three days ago: inside "this week".
    { userId: alice.id, userEmail: alice.email, workspaceName: HOSTILE_NAME, gpus: 1, memoryGb: 8, cpus: 2, startedAt: utcDay(-3, 10), endedAt: utcDay(-3, 12) },
    // Bob: 1 GPU x 5 h nine days ago: not this week.
    { userId: bob.id, userEmail: bob.email, workspaceName: "bob-ws", gpus: 1, memoryGb: 2, cpus: 1, startedAt: utcDay(-9, 0), endedAt: utcDay(-9, 5) },
    // A deleted user with a hostile email: 4 GPUs from 20:00 two days ago to 02:00 yesterday (16 + 8 GPU-h).
    { ...GHOST, workspaceName: "@SUM(1+1)", gpus: 4, memoryGb: 16, cpus: 8, startedAt: utcDay(-2, 20), endedAt: utcDay(-1, 2), endReason: "deleted" },
  ]);
  // And one interval from a real launch and stop on the engine.
  const launched = await g.api("/api/workspaces", { token: alice.token, json: { name: "real-one", imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
  expect(launched.status, launched.text).toBe(201);
  realWorkspaceId = launched.body.id;
  expect((await g.api(`/api/workspaces/${realWorkspaceId}/stop`, { token: alice.token, method: "POST" })).body.status).toBe("stopped");
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

function day(report: Report, days: number): Day {
  const d = report.days.find((x) => x.key === dayKey(days));
  if (!d) throw new Error(`no day ${dayKey(days)} in the report`);
  return d;
}

describe("usage reports and CSV exports", () => {
  it("a user's report holds only their own rows, each day stacked by workspace, with the ledger's numbers", async () => {
    const r = await g.api<Report>(`/api/me/usage/report?${range()}`, { token: alice.token });
    expect(r.status, r.text).toBe(200);
    const rep = r.body;
    expect(rep.days).toHaveLength(13);
    expect(new Set(rep.history.map((h) => h.userId))).toEqual(new Set([alice.id]));
    expect(rep.history.map((h) => h.workspaceName).sort()).toEqual([HOSTILE_NAME, "real-one", COMMA_NAME].sort());
    const comma = rep.history.find((h) => h.workspaceName === COMMA_NAME)!;
    expect(day(rep, -10)).toMatchObject({ gpuHours: 6, cpuHours: 3, memoryGbHours: 12, parts: [{ key: comma.workspaceId, label: COMMA_NAME, gpuHours: 6, cpuHours: 3, memoryGbHours: 12 }] });
    expect(day(rep, -3)).toMatchObject({ gpuHours: 2, cpuHours: 4, memoryGbHours: 16 });
    expect(day(rep, -9)).toMatchObject({ gpuHours: 0, parts: [] });
    const real = rep.history.find((h) => h.workspaceId === realWorkspaceId)!;
    expect(real).toMatchObject({ gpus: 1, endReason: "stopped" });
    expect(day(rep, 0).parts.map((p) => p.key)).toEqual([realWorkspaceId]);
    // The totals are the days summed, and the same as GET /api/me/usage says for the range.
    const summed = rep.days.reduce((n, d) => n + d.gpuHours, 0);
    expect(Math.abs(rep.totals.gpuHours - summed)).toBeLessThan(1e-5);
    const plain = await g.api(`/api/me/usage?${range()}`, { token: alice.token });
    expect(plain.body.totals).toEqual(rep.totals);

    const b = (await g.api<Report>(`/api/me/usage/report?${range()}`, { token: bob.token })).body;
    expect(b.history.map((h) => [h.userId, h.workspaceName])).toEqual([[bob.id, "bob-ws"]]);
    expect(b.totals).toEqual({ gpuHours: 5, cpuHours: 5, memoryGbHours: 10 });
    expect(b.series).toEqual([{ key: b.history[0].workspaceId, label: "bob-ws" }]);
  });

  it("the admin's report: everyone's days stacked by user, the users, top users of the last 7 days, every workspace", async () => {
    const r = await g.api<AdminReport>(`/api/admin/usage/report?${range()}`, { token: g.adminToken });
    expect(r.status, r.text).toBe(200);
    const rep = r.body;
    expect(day(rep, -10).parts).toEqual([{ key: alice.id, label: alice.email, gpuHours: 6, cpuHours: 3, memoryGbHours: 12 }]);
    expect(day(rep, -9).parts).toEqual([{ key: bob.id, label: bob.email, gpuHours: 5, cpuHours: 5, memoryGbHours: 10 }]);
    // An interval across midnight is split between the two UTC days.
    expect(day(rep, -2).parts).toEqual([{ key: GHOST.userId, label: GHOST.userEmail, gpuHours: 16, cpuHours: 32, memoryGbHours: 64 }]);
    expect(day(rep, -1).parts).toEqual([{ key: GHOST.userId, label: GHOST.userEmail, gpuHours: 8, cpuHours: 16, memoryGbHours: 32 }]);
    expect(rep.series.map((s) => s.key).slice(0, 3)).toEqual([GHOST.userId, alice.id, bob.id]);
    expect(rep.users.map((u) => u.key)).toEqual([GHOST.userId, alice.id, bob.id]);
    // Top users: the 7 days up to now, so Bob (nine days ago) is not among them and Alice has her 2 h plus the real run.
    expect(rep.topUsers.rows.map((u) => u.key)).toEqual([GHOST.userId, alice.id]);
    expect(rep.topUsers.rows[0].gpuHours).toBe(24);
    expect(rep.topUsers.rows[1].gpuHours).toBeGreaterThan(2);
    expect(rep.topUsers.rows[1].gpuHours).toBeLessThan(2.1);
    expect(new Set(rep.history.map((h) => h.userId))).toEqual(new Set([alice.id, bob.id, GHOST.userId]));
    // One source of numbers: the per-day totals equal groupBy=day, the users equal groupBy=user.
    const byDay = await g.api(`/api/admin/usage?groupBy=day&${range()}`, { token: g.adminToken });
    expect(byDay.body.rows.map((x: Totals) => x.gpuHours)).toEqual(rep.days.map((d) => d.gpuHours));
    const byUser = await g.api(`/api/admin/usage?groupBy=user&${range()}`, { token: g.adminToken });
    expect(byUser.body.rows).toEqual(rep.users);
  });

  it("CSV: an attachment with every row of the range for the admin, only the caller's own rows for a user", async () => {
    const res = await fetch(`${g.url}/api/admin/usage.csv?${range()}`, { headers: { authorization: `Bearer ${g.adminToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toMatch(/^attachment; filename="gantry-usage-all-\d{4}-\d{2}-\d{2}-to-\d{4}-\d{2}-\d{2}\.csv"$/);
    const all = csvRecords(await res.text());
    expect(all).toHaveLength(5);
    expect(new Set(all.map((r) => r.user_id))).toEqual(new Set([alice.id, bob.id, GHOST.userId]));
    const bobRow = all.find((r) => r.user_id === bob.id)!;
    expect(bobRow).toMatchObject({ workspace: "bob-ws", user_email: bob.email, gpus: "1", memory_gb: "2", cpus: "1", gpu_hours: "5", cpu_hours: "5", memory_gb_hours: "10", end_reason: "stopped" });
    expect(bobRow.started_at).toBe(utcDay(-9, 0).toISOString());

    const mine = await fetch(`${g.url}/api/me/usage.csv?${range()}`, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(mine.headers.get("content-disposition")).toMatch(/^attachment; filename="gantry-usage-\d{4}/);
    const bobs = csvRecords(await mine.text());
    expect(bobs.map((r) => [r.user_id, r.workspace])).toEqual([[bob.id, "bob-ws"]]);
  });

  it("CSV escaping: a name with a comma and quotes survives, and formula-like names and emails are never formulas", async () => {
    const admin = await (await fetch(`${g.url}/api/admin/usage.csv?${range()}`, { headers: { authorization: `Bearer ${g.adminToken}` } })).text();
    // The raw text: quoted, quotes doubled, and the formula cell starts with an apostrophe inside its quotes.
    expect(admin).toContain(`"train, ""big"" run"`);
    expect(admin).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(admin).toContain(`,'+ghost@evil.test,`);
    expect(admin).toContain(`,'@SUM(1+1),`);
    for (const line of admin.split("\r\n")) for (const cell of line.split(",")) expect(cell).not.toMatch(/^[=+@]/);
    const records = csvRecords(admin);
    expect(records.map((r) => r.workspace).sort()).toEqual([`'${HOSTILE_NAME}`, "'@SUM(1+1)", "bob-ws", "real-one", COMMA_NAME].sort());
    expect(records.find((r) => r.user_id === GHOST.userId)!.user_email).toBe("'+ghost@evil.test");

    const alices = csvRecords(await (await fetch(`${g.url}/api/me/usage.csv?${range()}`, { headers: { authorization: `Bearer ${alice.token}` } })).text());
    expect(alices.map((r) => r.workspace).sort()).toEqual([`'${HOSTILE_NAME}`, "real-one", COMMA_NAME].sort());
    expect(alices.find((r) => r.workspace === COMMA_NAME)).toMatchObject({ gpu_hours: "6", cpu_hours: "3", memory_gb_hours: "12" });
  });

  it.each([
    ["from after to", "?from=2026-12-02&to=2026-12-01"],
    ["a range over a year", "?from=2020-01-01&to=2026-01-01"],
    ["a malformed date", "?from=yesterday"],
    ["an unknown parameter", "?format=xlsx"],
  ])("refuses %s with 422 validation_failed on every report and CSV route", async (_what, query) => {
    for (const [path, token] of [["/api/me/usage/report", alice.token], ["/api/me/usage.csv", alice.token], ["/api/admin/usage/report", g.adminToken], ["/api/admin/usage.csv", g.adminToken]]) {
      const r = await g.api(`${path}${query}`, { token });
      expect({ path, status: r.status, code: r.body?.error?.code }).toEqual({ path, status: 422, code: "validation_failed" });
      expect(r.body.error.message.length).toBeGreaterThan(5);
    }
  });

  it("everyone's data is for admins only: 403 for a user, 401 without a session", async () => {
    for (const path of ["/api/admin/usage/report", "/api/admin/usage.csv"]) {
      const user = await g.api(path, { token: bob.token });
      expect({ path, status: user.status, code: user.body?.error?.code }).toEqual({ path, status: 403, code: "forbidden" });
      expect(user.text).not.toContain(alice.email);
    }
    for (const path of ["/api/me/usage/report", "/api/me/usage.csv", "/api/admin/usage/report", "/api/admin/usage.csv"]) {
      expect((await g.api(path)).status, path).toBe(401);
    }
  });
});
