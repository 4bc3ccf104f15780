import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { BUSYBOX_IMAGE, openEvents, startGantry, waitFor, type EventStream, type GantryEnv, type Seeded } from "../helpers/workspaces";

// GPU telemetry from one long-lived stand-in nvidia-smi in loop mode, on a real server and the real engine. The
// values come from a file this test rewrites (GANTRY_FAKE_GPU_TELEMETRY): the stand-in reads it for every sample.

const INTERVAL_MS = 300;
let g: GantryEnv;
let telemetryFile: string;
let alice: Seeded;
let bob: Seeded;
let workspace: { id: string; gpuUuid: string };
let aliceEvents: EventStream;
let bobEvents: EventStream;

function setReading(uuid: string, util: number, memMb: number, temp = 55, power = 210.5): void {
  // Written whole, then renamed: the stand-in never reads half a file.
  fs.writeFileSync(`${telemetryFile}.tmp`, `${uuid}, ${util}, ${memMb}, ${temp}, ${power}\n`);
  fs.renameSync(`${telemetryFile}.tmp`, telemetryFile);
}

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(process.env.TMPDIR ?? "/tmp", "gantry-telemetry-"));
  telemetryFile = path.join(dir, "telemetry.csv");
  fs.writeFileSync(telemetryFile, "");
  g = await startGantry({ prefix: "gantry-telemetry-", env: { GANTRY_TELEMETRY_INTERVAL_MS: String(INTERVAL_MS), GANTRY_FAKE_GPU_TELEMETRY: telemetryFile } });
  alice = await g.seedUser("alice");
  bob = await g.seedUser("bob");
  const imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  const res = await g.api("/api/workspaces", { token: alice.token, json: { name: "train", imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
  if (res.status !== 201) throw new Error(`launch answered ${res.status}: ${res.text}`);
  const running = await waitFor("train to run", () => g.api(`/api/workspaces/${res.body.id}`, { token: alice.token }), (r) => r.body?.status === "running", 120_000, 500);
  workspace = { id: running.body.id, gpuUuid: running.body.gpuDevices[0].uuid };
  aliceEvents = await openEvents(g.url, alice.token);
  bobEvents = await openEvents(g.url, bob.token);
}, 300_000);

afterAll(async () => {
  aliceEvents?.close();
  bobEvents?.close();
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

/** This server's stand-in samplers: processes running it with the telemetry query and this test's values file (the
 * shell's own forks for a pipeline share its command line, so only those whose parent is not one count). */
function samplers(): number[] {
  const found = new Map<number, number>();
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("--query-gpu=index,uuid,utilization.gpu")) continue;
      if (!fs.readFileSync(`/proc/${pid}/environ`, "utf8").includes(`GANTRY_FAKE_GPU_TELEMETRY=${telemetryFile}\0`)) continue;
      const ppid = Number(/^\d+ \(.*\) \S (\d+)/.exec(fs.readFileSync(`/proc/${pid}/stat`, "utf8"))?.[1]);
      found.set(Number(pid), ppid);
    } catch {
      /* gone meanwhile */
    }
  }
  return [...found].filter(([, ppid]) => !found.has(ppid)).map(([pid]) => pid).sort();
}

const telemetryOf = (s: EventStream, util: number) => (e: { event: string; data: any }) =>
  e.event === "gpu-telemetry" && e.data.workspaceId === workspace.id && e.data.gpus.some((x: any) => x.utilizationPercent === util);

describe("live GPU telemetry", () => {
  it("runs one nvidia-smi in loop mode for every sample, not a process per sample", async () => {
    const view = await g.api("/api/admin/gpus/telemetry", { token: g.adminToken });
    expect(view.status, view.text).toBe(200);
    expect(view.body.status).toMatchObject({ state: "live", intervalMs: INTERVAL_MS });
    const first = samplers();
    expect(first).toHaveLength(1);
    expect(fs.readFileSync(`/proc/${first[0]}/cmdline`, "utf8").split("\0")).toEqual(expect.arrayContaining(["-lms", String(INTERVAL_MS)]));
    // The same process a dozen samples later.
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 12));
    expect(samplers()).toEqual(first);
  });

  it("sends the owner the reading of the workspace's GPU, as the stand-in reports it, and follows a change", async () => {
    setReading(workspace.gpuUuid, 73, 12345);
    const first = await aliceEvents.waitFor("73 %", telemetryOf(aliceEvents, 73), 5000);
    expect(first.data.gpus).toEqual([expect.objectContaining({ uuid: workspace.gpuUuid, utilizationPercent: 73, memoryUsedMb: 12345, memoryTotalMb: 81920, temperatureC: 55, powerW: 210.5 })]);
    setReading(workspace.gpuUuid, 11, 2048);
    await aliceEvents.waitFor("11 %", telemetryOf(aliceEvents, 11), 5000);
  });

  it("never sends another user's GPU readings", () => {
    expect(bobEvents.events.filter((e) => e.event === "gpu-telemetry")).toEqual([]);
  });

  it("shows the admin every GPU, with the current minute in its history", async () => {
    setReading(workspace.gpuUuid, 42, 4096);
    const view = await waitFor(
      "42 % in the admin view",
      () => g.api("/api/admin/gpus/telemetry", { token: g.adminToken }),
      (r) => r.body?.live?.some((l: any) => l.uuid === workspace.gpuUuid && l.utilizationPercent === 42),
      5000,
    );
    expect(view.body.live).toHaveLength(4);
    expect(view.body.history[workspace.gpuUuid].length).toBeGreaterThan(0);
    expect((await g.api("/api/admin/gpus/telemetry", { token: alice.token })).status).toBe(403);
  });

  it("stores each minute per GPU and holder in the database, with the values read", async () => {
    setReading(workspace.gpuUuid, 64, 8000, 61, 300);
    const dbFile = path.join(g.dataDir.path, "gantry.db");
    // The first whole minute with 64 % throughout is written when it ends: at most two minutes from now.
    const row = await waitFor(
      "a stored minute at 64 %",
      async () => {
        const conn = new Database(dbFile, { readonly: true, fileMustExist: true });
        try {
          return conn.prepare(`SELECT * FROM GpuSample WHERE gpuUuid = ? AND periodS = 60 AND utilizationMax = 64 AND utilizationAvg = 64`).get(workspace.gpuUuid) as any;
        } finally {
          conn.close();
        }
      },
      (r) => !!r,
      150_000,
      2000,
    );
    expect(row).toMatchObject({ workspaceId: workspace.id, userId: alice.id, memoryUsedMaxMb: 8000, memoryTotalMb: 81920, temperatureMaxC: 61, powerAvgW: 300 });
    expect(row.samples).toBeGreaterThan(10);
  }, 180_000);
});
