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
