import { describe, expect, it } from "vitest";
import { byDay, byUser, overlapMs, totals, type Interval } from "./usage-math";

const t = (iso: string) => new Date(iso);
const NOW = t("2026-12-03T12:00:00Z");
const iv = (over: Partial<Interval>): Interval => ({ userId: "u1", userEmail: "a@x", gpus: 1, memoryGb: 4, cpus: 2, startedAt: t("2026-12-01T10:00:00Z"), endedAt: t("2026-12-01T12:00:00Z"), ...over });

describe("usage math", () => {
  it("counts the part of an interval inside the range", () => {
    expect(overlapMs(iv({}), t("2026-12-01T11:00:00Z"), t("2026-12-02T00:00:00Z"), NOW)).toBe(3_600_000);
    expect(overlapMs(iv({}), t("2026-12-02T00:00:00Z"), t("2026-12-03T00:00:00Z"), NOW)).toBe(0);
  });

  it("counts an open interval up to now, never into the future", () => {
    const open = iv({ startedAt: t("2026-12-03T10:00:00Z"), endedAt: null });
    expect(overlapMs(open, t("2026-12-03T00:00:00Z"), t("2026-12-04T00:00:00Z"), NOW)).toBe(2 * 3_600_000);
  });

  it("sums GPU-, CPU- and GB-hours", () => {
    expect(totals([iv({}), iv({ gpus: 2, cpus: 0.5, memoryGb: 1 })], t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"), NOW)).toEqual({
      gpuHours: 6,
      cpuHours: 5,
      memoryGbHours: 10,
    });
  });

  it("groups by user, most GPU-hours first, leaving out users with nothing in range", () => {
    const rows = byUser([iv({}), iv({ userId: "u2", userEmail: "b@x", gpus: 3 }), iv({ userId: "u3", startedAt: t("2026-11-01T00:00:00Z"), endedAt: t("2026-11-01T01:00:00Z") })], t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"), NOW);
    expect(rows.map((r) => [r.key, r.label, r.gpuHours])).toEqual([["u2", "b@x", 6], ["u1", "a@x", 2]]);
  });

  it("splits an interval across UTC days and lists empty days as zeros", () => {
    const night = iv({ startedAt: t("2026-12-01T23:00:00Z"), endedAt: t("2026-12-02T02:00:00Z") });
    const rows = byDay([night], t("2026-12-01T00:00:00Z"), t("2026-12-04T00:00:00Z"), NOW);
    expect(rows.map((r) => [r.key, r.gpuHours])).toEqual([["2026-12-01", 1], ["2026-12-02", 2], ["2026-12-03", 0]]);
  });
});
