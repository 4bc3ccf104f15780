import { describe, expect, it } from "vitest";
import { isoDate } from "./text-dates";

describe("isoDate", () => {
  it("turns the adapter's stored form into toISOString's", () => {
    const d = new Date("2026-12-02T00:32:37.703Z");
    expect(isoDate(d.toISOString().replace("Z", "+00:00"))).toBe(d.toISOString());
  });
  it("accepts Dates, nulls, epoch milliseconds and other ISO forms", () => {
    const d = new Date("2026-12-02T00:32:37.000Z");
    expect(isoDate(d)).toBe("2026-12-02T00:32:37.000Z");
    expect(isoDate(null)).toBeNull();
    expect(isoDate(String(d.getTime()))).toBe("2026-12-02T00:32:37.000Z");
    expect(isoDate("2026-12-02T01:32:37+01:00")).toBe("2026-12-02T00:32:37.000Z");
  });
  it("reads SQLite's CURRENT_TIMESTAMP form as UTC whatever the server's time zone, and passes unreadable text on", () => {
    expect(isoDate("2026-12-02 00:32:37")).toBe("2026-12-02T00:32:37.000Z");
    expect(isoDate("2026-12-02T00:32:37.5")).toBe("2026-12-02T00:32:37.500Z");
    expect(isoDate("not a date")).toBe("not a date");
  });
});
