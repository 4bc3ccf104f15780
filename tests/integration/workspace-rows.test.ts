import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeMigratedDataDir, type DataDir } from "../helpers/data-dir";

// The runner's SQL reads and writes of a workspace row (lib/workspaces/workspace-rows.ts) and the usage ledger's
// (lib/workspaces/usage-ledger.ts), on a real migrated database file, against what Prisma's model API reads and writes.

let dataDir: DataDir;
let m: {
  db: typeof import("../../lib/db/client").db;
  disconnectDb: typeof import("../../lib/db/client").disconnectDb;
  rows: typeof import("../../lib/workspaces/workspace-rows");
  ledger: typeof import("../../lib/workspaces/usage-ledger");
  runner: typeof import("../../lib/workspaces/run-action");
};
const saved = { dir: process.env.GANTRY_DATA_DIR, url: process.env.DATABASE_URL };

beforeAll(async () => {
  dataDir = makeMigratedDataDir("gantry-workspace-rows-");
  process.env.GANTRY_DATA_DIR = dataDir.path;
  delete process.env.DATABASE_URL;
  const client = await import("../../lib/db/client");
  m = { db: client.db, disconnectDb: client.disconnectDb, rows: await import("../../lib/workspaces/workspace-rows"), ledger: await import("../../lib/workspaces/usage-ledger"), runner: await import("../../lib/workspaces/run-action") };
});

afterAll(async () => {
  await m?.disconnectDb();
  dataDir?.remove();
  process.env.GANTRY_DATA_DIR = saved.dir;
  if (saved.url !== undefined) process.env.DATABASE_URL = saved.url;
});

let n = 0;
async function seedWorkspace(opts: { gpus?: number } = {}) {
  const db = m.db();
  n++;
  const user = await db.user.create({ data: { email: `rows${n}@example.com`, name: `Rows ${n}`, passwordHash: "x" } });
  const image = await db.image.create({ data: { name: `rows-image-${n}`, ref: `example/rows:${n}` } });
  const ws = await db.workspace.create({
    data: {
      userId: user.id,
      name: `rows-${n}`,
      imageId: image.id,
      imageRef: image.ref,
      gpus: opts.gpus ?? 0,
      memoryGb: 1.5,
      cpus: 0.5,
      status: "running",
      containerName: `gantry-rows-${n}`,
      jupyterToken: "t".repeat(64),
      startedAt: new Date("2026-12-01T10:00:00.123Z"),
      idleStopAt: new Date("2026-12-01T11:00:00Z"),
      cancelRequested: true,
    },
  });
  for (let i = 0; i < (opts.gpus ?? 0); i++) {
    const uuid = `GPU-rows-${n}-${i}`;
    // Indexes out of insertion order: the row lists its GPUs by index.
    await db.gpu.create({ data: { uuid, index: 10 * n + (opts.gpus ?? 0) - i, name: "Stand-in", memoryTotalMb: 1000 } });
    await db.gpuAllocation.create({ data: { gpuUuid: uuid, workspaceId: ws.id, userId: user.id } });
  }
  return ws;
}

const include = () => m.rows.workspaceInclude;

describe("loadWorkspace", () => {
  it("reads exactly what Prisma's include reads: every column typed (dates, booleans, numbers), image, owner, GPUs", async () => {
    const ws = await seedWorkspace({ gpus: 2 });
    const viaPrisma = await m.db().workspace.findUnique({ where: { id: ws.id }, include: include() });
    const raw = await m.rows.loadWorkspace(ws.id);
    expect(raw).not.toBeNull();
    const byIndex = (a: { gpu: { index: number } }, b: { gpu: { index: number } }) => a.gpu.index - b.gpu.index;
    expect({ ...raw!, allocations: [...raw!.allocations].sort(byIndex) }).toEqual({ ...viaPrisma!, allocations: [...viaPrisma!.allocations].sort(byIndex) });
    expect(raw!.startedAt).toBeInstanceOf(Date);
    expect(raw!.startedAt!.toISOString()).toBe("2026-12-01T10:00:00.123Z");
    expect(raw!.cancelRequested).toBe(true);
    expect(raw!.memoryGb).toBe(1.5);
    expect(raw!.allocations.map((a) => a.gpu.index)).toEqual([...raw!.allocations.map((a) => a.gpu.index)].sort((a, b) => a - b));
  });

  it("is null for a workspace that does not exist, and works inside a transaction", async () => {
    expect(await m.rows.loadWorkspace("ws-none")).toBeNull();
    const ws = await seedWorkspace();
    const inTx = await m.db().$transaction((tx) => m.rows.loadWorkspace(ws.id, tx));
    expect(inTx?.id).toBe(ws.id);
    expect(inTx?.allocations).toEqual([]);
  });
});

describe("updateWorkspace", () => {
  it("writes only when every condition holds (claim, no claim, status, cancel), and stamps updatedAt", async () => {
    const ws = await seedWorkspace();
    const db = m.db();
    // The seeded row has no claim, status running and a cancel requested.
    expect(await m.rows.updateWorkspace(db, { id: ws.id, actionId: "someone-else" }, { statusMessage: "no" })).toBe(0);
    expect(await m.rows.updateWorkspace(db, { id: ws.id, status: "stopped" }, { statusMessage: "no" })).toBe(0);
    expect(await m.rows.updateWorkspace(db, { id: ws.id, cancelRequested: false }, { statusMessage: "no" })).toBe(0);
    expect((await db.workspace.findUnique({ where: { id: ws.id } }))!.statusMessage).toBe("");

    const before = (await db.workspace.findUnique({ where: { id: ws.id } }))!.updatedAt;
    await new Promise((r) => setTimeout(r, 5));
    const lease = new Date(Date.now() + 30_000);
    expect(await m.rows.updateWorkspace(db, { id: ws.id, actionId: null, status: "running", cancelRequested: true }, { action: "stop", actionId: "c1", actionLeaseUntil: lease, cancelRequested: false, upstream: null })).toBe(1);
    const after = (await db.workspace.findUnique({ where: { id: ws.id } }))!;
    expect(after).toMatchObject({ action: "stop", actionId: "c1", cancelRequested: false, upstream: null });
    expect(after.actionLeaseUntil!.getTime()).toBe(lease.getTime());
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.getTime());

    // Now claimed: a write for that claim goes through, one for no claim does not; an explicit updatedAt is kept.
    const stamp = new Date("2026-12-02T08:00:00.000Z");
    expect(await m.rows.updateWorkspace(db, { id: ws.id, actionId: null }, { status: "error" })).toBe(0);
    expect(await m.rows.updateWorkspace(db, { id: ws.id, actionId: "c1", cancelRequested: false }, { status: "stopped", updatedAt: stamp })).toBe(1);
    const settled = (await db.workspace.findUnique({ where: { id: ws.id } }))!;
    expect(settled.status).toBe("stopped");
    expect(settled.updatedAt.toISOString()).toBe(stamp.toISOString());

    // The container it was written for (recording an address): another container's record is left alone.
    await db.workspace.update({ where: { id: ws.id }, data: { containerId: "c-new" } });
    expect(await m.rows.updateWorkspace(db, { id: ws.id, containerId: "c-old" }, { upstream: "http://10.0.0.9:8888" })).toBe(0);
    expect(await m.rows.updateWorkspace(db, { id: ws.id, containerId: "c-new" }, { upstream: "http://10.0.0.2:8888" })).toBe(1);
    expect((await db.workspace.findUnique({ where: { id: ws.id } }))!.upstream).toBe("http://10.0.0.2:8888");
  });

  it("refuses a field that is not a column of its own (nothing is written)", async () => {
    const ws = await seedWorkspace();
    await expect(m.rows.updateWorkspace(m.db(), { id: ws.id }, { nope: 1 } as never)).rejects.toThrow(/not a column/);
    await expect(m.rows.updateWorkspace(m.db(), { id: ws.id }, { id: "other" })).rejects.toThrow(/not a column/);
    expect(await m.db().workspace.findUnique({ where: { id: ws.id } })).not.toBeNull();
  });
});

describe("the usage ledger's SQL", () => {
  it("opens one interval at most, with the GPUs held; closes it never before it began", async () => {
    const ws = await seedWorkspace({ gpus: 2 });
    const db = m.db();
    const at = new Date("2026-12-01T10:00:00.000Z");
    await db.$transaction((tx) => m.ledger.openUsage(tx, ws.id, at));
    await db.$transaction((tx) => m.ledger.openUsage(tx, ws.id, new Date("2026-12-01T10:05:00Z")));
    const open = await db.usageInterval.findMany({ where: { workspaceId: ws.id } });
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ workspaceName: ws.name, userId: ws.userId, userEmail: `rows${n}@example.com`, gpus: 2, memoryGb: 1.5, cpus: 0.5, endedAt: null });
    expect(JSON.parse(open[0].gpuUuids)).toEqual([`GPU-rows-${n}-0`, `GPU-rows-${n}-1`]);
    expect(open[0].startedAt.toISOString()).toBe(at.toISOString());

    // A close "before" the start (a clock that went back) ends it where it began.
    await db.$transaction((tx) => m.ledger.closeUsage(tx, ws.id, new Date("2026-12-01T09:59:59.000Z"), "crash"));
    const closed = (await db.usageInterval.findMany({ where: { workspaceId: ws.id } }))[0];
    expect(closed.endReason).toBe("crash");
    expect(closed.endedAt!.toISOString()).toBe(at.toISOString());

    // A later interval, closed later: its own end; the closed one is untouched.
    const later = new Date("2026-12-01T12:00:00.000Z");
    await db.$transaction((tx) => m.ledger.openUsage(tx, ws.id, later));
    await db.$transaction((tx) => m.ledger.closeUsage(tx, ws.id, new Date("2026-12-01T13:30:00.000Z"), "stopped"));
    const all = await db.usageInterval.findMany({ where: { workspaceId: ws.id }, orderBy: { startedAt: "asc" } });
    expect(all.map((i) => [i.startedAt.toISOString(), i.endedAt!.toISOString(), i.endReason])).toEqual([
      [at.toISOString(), at.toISOString(), "crash"],
      [later.toISOString(), "2026-12-01T13:30:00.000Z", "stopped"],
    ]);
  });
});

describe("the runner's claim checks ownership and the guard on the row it read", () => {
  // A stop whose work does nothing: the claim and the final write are the runner's own (the engine is only pinged).
  const stop = (id: string, extra: { scope?: { userId?: string }; guard?: { idleStopAt?: Date } }, worked: string[]) =>
    m.runner.runAction(id, { action: "stop", actor: { id: null, email: "system:test" }, ...extra, work: async () => (worked.push(id), {}) });

  it("another user's workspace, or a guard that no longer holds (a Keep running in between), is not found and nothing is written", async () => {
    const ws = await seedWorkspace();
    await m.db().workspace.update({ where: { id: ws.id }, data: { cancelRequested: false } });
    const worked: string[] = [];
    await expect(stop(ws.id, { scope: { userId: "someone-else" } }, worked)).rejects.toMatchObject({ code: "not_found" });
    await expect(stop(ws.id, { guard: { idleStopAt: new Date("2026-12-01T11:00:00.001Z") } }, worked)).rejects.toMatchObject({ code: "not_found" });
    const untouched = (await m.db().workspace.findUnique({ where: { id: ws.id } }))!;
    expect(untouched).toMatchObject({ status: "running", actionId: null });
    expect(untouched.updatedAt.getTime()).toBe((await m.rows.loadWorkspace(ws.id))!.updatedAt.getTime());
    expect(worked).toEqual([]);

    // Its owner, with the warning as it stands: the stop runs and settles.
    const view = await stop(ws.id, { scope: { userId: ws.userId }, guard: { idleStopAt: new Date("2026-12-01T11:00:00Z") } }, worked);
    expect(worked).toEqual([ws.id]);
    expect(view?.status).toBe("stopped");
    expect(await m.db().workspace.findUnique({ where: { id: ws.id } })).toMatchObject({ status: "stopped", actionId: null, idleStopAt: null });
  });
});
