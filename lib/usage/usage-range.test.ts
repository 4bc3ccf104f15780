import { describe, expect, it } from "vitest";
import { apiQuery, pageRange, presetRange } from "./usage-range";

const NOW = new Date("2026-12-03T12:00:00Z");

describe("the usage pages' date range", () => {
  it("defaults to the last 7 UTC days, today included", () => {
    const r = pageRange({}, NOW);
    expect(r).toEqual({ fromDay: "2026-11-27", toDay: "2026-12-03", from: new Date("2026-11-27T00:00:00Z"), to: new Date("2026-12-04T00:00:00Z") });
    expect(apiQuery(r)).toBe("from=2026-11-27&to=2026-12-04");
  });

  it("includes both ends: one day is from=to", () => {
    const r = pageRange({ from: "2026-12-01", to: "2026-12-01" }, NOW);
    expect([r.from, r.to, r.error]).toEqual([new Date("2026-12-01T00:00:00Z"), new Date("2026-12-02T00:00:00Z"), undefined]);
  });

  it.each([
    [{ from: "2026-12-05", to: "2026-12-01" }, /before/],
    [{ from: "2020-01-01", to: "2026-01-01" }, /at most 366 days/],
    [{ from: "yesterday", to: "2026-12-01" }, /dates/],
    [{ from: "2026-02-30", to: "2026-03-02" }, /ISO 8601|dates/],
    [{ from: ["2026-12-01", "2026-12-02"], to: "2026-12-03" }, /dates/],
    [{ from: "2026-12-01" }, /dates/],
  ])("refuses %j with a reason and falls back to the default range", (params, reason) => {
    const r = pageRange(params, NOW);
    expect(r.error).toMatch(reason);
    expect([r.fromDay, r.toDay]).toEqual(["2026-11-27", "2026-12-03"]);
  });

  it("presets end today", () => {
    expect(presetRange(30, NOW)).toEqual({ fromDay: "2026-11-04", toDay: "2026-12-03" });
  });
});
