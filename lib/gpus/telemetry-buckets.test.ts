import { describe, expect, it } from "vitest";
import { foldIntoHours, MinuteBuckets } from "./telemetry-buckets";
import type { GpuReading } from "./parse-telemetry";

const UUID = "GPU-3f8a1c2e-6b4d-7e91-a0c5-2d7f9b8e4a61";
const reading = (util: number | null, mem: number, power: number | null = 100): GpuReading => ({
  index: 0,
  uuid: UUID,
  utilizationPercent: util,
  memoryUsedMb: mem,
  memoryTotalMb: 81920,
  temperatureC: 40 + (util ?? 0) / 10,
  powerW: power,
});
const T0 = Date.UTC(2026, 11, 1, 8, 0, 0);
const alice = { workspaceId: "w1", userId: "u1" };

describe("MinuteBuckets", () => {
  it("averages utilisation and power, keeps the peaks, per minute", () => {
    const b = new MinuteBuckets();
    b.add(reading(10, 1000, 100), alice, T0 + 1000);
    b.add(reading(30, 3000, 200), alice, T0 + 30_000);
    b.add(reading(null, 2000, null), alice, T0 + 59_000);
    b.add(reading(90, 500), alice, T0 + 61_000);
    const rows = b.take(T0 + 60_000);
    expect(rows).toEqual([
      {
        gpuUuid: UUID,
        at: new Date(T0),
        periodS: 60,
        workspaceId: "w1",
        userId: "u1",
        samples: 3,
        utilizationAvg: 20,
        utilizationMax: 30,
        memoryUsedMaxMb: 3000,
        memoryTotalMb: 81920,
        temperatureMaxC: 43,
        powerAvgW: 150,
      },
    ]);
    // The next minute is still open until it ends.
    expect(b.take(T0 + 60_000)).toEqual([]);
    expect(b.peek()).toHaveLength(1);
    expect(b.take(T0 + 120_000)).toHaveLength(1);
    expect(b.peek()).toHaveLength(0);
  });

  it("keeps a GPU's minutes apart per holder: a hand-over mid-minute bills each workspace its own share", () => {
    const b = new MinuteBuckets();
    b.add(reading(50, 1), alice, T0 + 1000);
    b.add(reading(0, 1), null, T0 + 2000);
    b.add(reading(70, 1), { workspaceId: "w2", userId: "u2" }, T0 + 3000);
    const rows = b.take();
    expect(rows.map((r) => [r.workspaceId, r.utilizationAvg])).toEqual([
      ["w1", 50],
      [null, 0],
      ["w2", 70],
    ]);
  });
});

describe("foldIntoHours", () => {
  it("weights minute averages by their samples and keeps the peaks", () => {
    const b = new MinuteBuckets();
    for (let i = 0; i < 3; i++) b.add(reading(10, 100), alice, T0 + i * 1000);
    b.add(reading(50, 900, 300), alice, T0 + 30 * 60_000);
    const hours = foldIntoHours(b.take());
    expect(hours).toHaveLength(1);
    expect(hours[0]).toMatchObject({ at: new Date(T0), periodS: 3600, samples: 4, utilizationAvg: 20, utilizationMax: 50, memoryUsedMaxMb: 900, powerAvgW: 150 });
  });
});
