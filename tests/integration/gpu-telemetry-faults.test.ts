import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { startGantry, waitFor, type GantryEnv } from "../helpers/workspaces";

// The telemetry sampler when nvidia-smi misbehaves: it dies (the stand-in exits after a few samples) or is not there.

const started: GantryEnv[] = [];
afterAll(async () => {
  for (const g of started) {
    await g.server.stop();
    g.dataDir.remove();
  }
});

const view = (g: GantryEnv) => g.api("/api/admin/gpus/telemetry", { token: g.adminToken });

describe("a sampler that dies", () => {
  it("is started again with backoff, and readings come back each time", async () => {
    const g = await startGantry({ prefix: "gantry-telemetry-dies-", env: { GANTRY_TELEMETRY_INTERVAL_MS: "200", GANTRY_FAKE_GPU_LOOPS: "3" } });
    started.push(g);
    // Each restart waits longer than the one before (1 s, 2 s, 4 s…, at most a minute): never a hot loop.
    const seen: { restarts: number; at: number }[] = [];
    const reasons = new Set<string>();
    await waitFor(
      "two more restarts",
      async () => {
        const r = await view(g);
        const restarts = r.body?.status?.restarts ?? 0;
        if (r.body?.status?.state === "restarting") reasons.add(r.body.status.reason);
        if (!seen.length || seen[seen.length - 1].restarts !== restarts) seen.push({ restarts, at: Date.now() });
        return r;
      },
      () => seen.length >= 3,
      60_000,
      50,
    );
    const gaps = seen.slice(1).map((s, i) => s.at - seen[i].at);
    expect(seen.slice(1).map((s, i) => s.restarts - seen[i].restarts)).toEqual([1, 1]);
    expect(gaps[1]).toBeGreaterThan(1000);
    expect(gaps[1]).toBeGreaterThan(gaps[0] - 300);
    expect([...reasons]).toEqual(["nvidia-smi exited with code 1"]);
    // Between deaths it reports again.
    await waitFor("live after a restart", () => view(g), (r) => r.body?.status.state === "live" && r.body.live.length === 4, 20_000, 100);
    const health = await g.api("/api/health");
    expect(health.status).toBe(200);
  }, 120_000);
});

describe("a host without nvidia-smi", () => {
  it("has no telemetry, said as a state with its reason, not an error", async () => {
    const g = await startGantry({ prefix: "gantry-telemetry-none-", env: { GANTRY_NVIDIA_SMI: "/nonexistent/nvidia-smi" } });
    started.push(g);
    const r = await waitFor("unavailable", () => view(g), (x) => x.body?.status?.state === "unavailable", 10_000, 100);
    expect(r.status).toBe(200);
    expect(r.body.status.reason).toMatch(/nvidia-smi not found at \/nonexistent\/nvidia-smi: no telemetry/);
    expect(r.body.live).toEqual([]);
    expect((await g.api("/api/health")).status).toBe(200);
  }, 120_000);
});

describe("kept for 30 days, downsampled", () => {
  it("folds minutes older than a day into hours and drops what is older than 30 days, at start-up and every 10 minutes", async () => {
    const first = await startGantry({ prefix: "gantry-telemetry-keep-", env: { GANTRY_TELEMETRY_INTERVAL_MS: "0" } });
    await first.server.stop();
    const dbFile = path.join(first.dataDir.path, "gantry.db");
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 48 * 3_600_000; // two days ago, on the hour
    const at = (ms: number) => new Date(ms).toISOString().replace("Z", "+00:00");
    const conn = new Database(dbFile, { fileMustExist: true });
    const insert = conn.prepare(
      `INSERT INTO GpuSample (gpuUuid, at, periodS, workspaceId, userId, samples, utilizationAvg, utilizationMax, memoryUsedMaxMb, memoryTotalMb, temperatureMaxC, powerAvgW)
       VALUES ('GPU-aaaa', ?, 60, 'w1', 'u1', ?, ?, ?, ?, 81920, ?, ?)`,
    );
    // Two minutes of one hour, two days ago: 30 samples at 10 %, 10 samples at 90 %.
    insert.run(at(hour), 30, 10, 20, 1000, 50, 100);
    insert.run(at(hour + 60_000), 10, 90, 95, 3000, 70, 300);
    // A minute 40 days ago, and one from an hour ago (kept as it is).
    insert.run(at(Date.now() - 40 * 86_400_000), 30, 50, 50, 1, 40, 100);
    insert.run(at(Date.now() - 3_600_000), 30, 5, 5, 1, 40, 100);
    conn.close();

    const g = await startGantry({ dataDir: first.dataDir, env: { GANTRY_TELEMETRY_INTERVAL_MS: "500" } });
    started.push(g);
    const rows = await waitFor(
      "the fold",
      async () => {
        const c = new Database(dbFile, { readonly: true });
        try {
          return c.prepare("SELECT periodS, samples, utilizationAvg, utilizationMax, memoryUsedMaxMb, temperatureMaxC, powerAvgW FROM GpuSample WHERE gpuUuid = 'GPU-aaaa' ORDER BY at").all() as any[];
        } finally {
          c.close();
        }
      },
      (r) => r.length === 2 && r[0].periodS === 3600,
      20_000,
      250,
    );
    expect(rows[0]).toEqual({ periodS: 3600, samples: 40, utilizationAvg: 30, utilizationMax: 95, memoryUsedMaxMb: 3000, temperatureMaxC: 70, powerAvgW: 150 });
    expect(rows[1]).toMatchObject({ periodS: 60, samples: 30, utilizationAvg: 5 });
  }, 120_000);
});
