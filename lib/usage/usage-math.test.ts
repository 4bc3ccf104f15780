import { describe, expect, it } from "vitest";
import { byDay, byUser, foldSeries, OTHERS_KEY, overlapMs, stackedByDay, topUsers, totals, type Interval } from "./usage-math";

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

  it("stacks each UTC day by user: parts per day, days without use as zeros, the day's total the sum of its parts", () => {
    const byEmail = (i: Interval) => ({ key: i.userId, label: i.userEmail });
    const ivs = [
      iv({}), // u1, 2026-12-01 10:00-12:00, 1 GPU
      iv({ userId: "u2", userEmail: "b@x", gpus: 2, startedAt: t("2026-12-01T23:00:00Z"), endedAt: t("2026-12-02T01:30:00Z") }),
      iv({ startedAt: t("2026-12-03T11:00:00Z"), endedAt: null }), // open: counts up to NOW (12:00)
    ];
    const s = stackedByDay(ivs, byEmail, t("2026-12-01T00:00:00Z"), t("2026-12-05T00:00:00Z"), NOW);
    // Most GPU-hours over the range first: u2 (5) before u1 (3), on every day.
    expect(s.series).toEqual([{ key: "u2", label: "b@x" }, { key: "u1", label: "a@x" }]);
    expect(s.days.map((d) => [d.key, d.gpuHours, d.parts.map((p) => [p.key, p.gpuHours])])).toEqual([
      ["2026-12-01", 4, [["u2", 2], ["u1", 2]]],
      ["2026-12-02", 3, [["u2", 3]]],
      ["2026-12-03", 1, [["u1", 1]]],
      ["2026-12-04", 0, []],
    ]);
    expect(s.days[0].parts[1]).toEqual({ key: "u1", label: "a@x", gpuHours: 2, cpuHours: 4, memoryGbHours: 8 });
    // The same day totals as groupBy=day.
    expect(s.days.map((d) => d.gpuHours)).toEqual(byDay(ivs, t("2026-12-01T00:00:00Z"), t("2026-12-05T00:00:00Z"), NOW).map((d) => d.gpuHours));
  });

  it("stacks by any group (a user's own workspaces) and clips the first and last day to the range", () => {
    const ws = (i: Interval & { ws: string }) => ({ key: i.ws, label: i.ws });
    const ivs = [{ ...iv({ startedAt: t("2026-12-01T00:00:00Z"), endedAt: t("2026-12-02T00:00:00Z") }), ws: "train" }, { ...iv({ gpus: 0, cpus: 4 }), ws: "cpu-box" }];
    const s = stackedByDay(ivs, ws, t("2026-12-01T06:00:00Z"), t("2026-12-01T11:00:00Z"), NOW);
    expect(s.days).toHaveLength(1);
    expect(s.days[0].parts).toEqual([
      { key: "train", label: "train", gpuHours: 5, cpuHours: 10, memoryGbHours: 20 },
      { key: "cpu-box", label: "cpu-box", gpuHours: 0, cpuHours: 4, memoryGbHours: 4 },
    ]);
    expect(s.series.map((x) => x.key)).toEqual(["train", "cpu-box"]);
  });

  it("folds all but the biggest series into one 'others' part without changing a day's total", () => {
    const ivs = ["u1", "u2", "u3", "u4"].map((u, n) => iv({ userId: u, userEmail: `${u}@x`, gpus: 4 - n }));
    const s = stackedByDay(ivs, (i) => ({ key: i.userId, label: i.userEmail }), t("2026-12-01T00:00:00Z"), t("2026-12-02T00:00:00Z"), NOW);
    const folded = foldSeries(s, 2);
    expect(folded.series.map((x) => x.key)).toEqual(["u1", "u2", OTHERS_KEY]);
    expect(folded.series[2].label).toBe("2 others");
    expect(folded.days[0].parts.map((p) => [p.key, p.gpuHours])).toEqual([["u1", 8], ["u2", 6], [OTHERS_KEY, 6]]);
    expect(folded.days[0].gpuHours).toBe(20);
    expect(foldSeries(s, 4)).toBe(s);
  });

  it("top users: the most GPU-hours in the 7 days up to now, whatever the page's range", () => {
    const ivs = [
      iv({ userId: "old", userEmail: "old@x", gpus: 8, startedAt: t("2026-11-20T00:00:00Z"), endedAt: t("2026-11-25T00:00:00Z") }),
      iv({ userId: "u2", userEmail: "b@x", startedAt: t("2026-11-26T06:00:00Z"), endedAt: t("2026-11-26T18:00:00Z") }), // 6 of its 12 h inside
      iv({}),
      iv({ userId: "u3", userEmail: "c@x", gpus: 0 }),
    ];
    const top = topUsers(ivs, NOW, 2);
    expect(top.from).toEqual(t("2026-11-26T12:00:00Z"));
    expect(top.to).toEqual(NOW);
    expect(top.rows.map((r) => [r.key, r.gpuHours])).toEqual([["u2", 6], ["u1", 2]]);
  });
});
