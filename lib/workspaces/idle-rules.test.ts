import { describe, expect, it } from "vitest";
import { decideIdle, snoozesAfterUse } from "./idle-rules";

const MIN = 60_000;
const base = { timeoutMs: 30 * MIN, warningMs: 5 * MIN, snoozedAt: null, stopAt: null };

describe("decideIdle", () => {
  it("leaves a workspace used within the timeout minus the warning alone", () => {
    expect(decideIdle({ ...base, now: 24 * MIN, lastUse: 0 })).toEqual({ kind: "active" });
  });

  it("warns when the warning's lead time begins, with the stop at the end of the timeout", () => {
    expect(decideIdle({ ...base, now: 25 * MIN, lastUse: 0 })).toEqual({ kind: "warn", stopAt: 30 * MIN });
  });

  it("waits out the warning, then stops, naming how long it was idle", () => {
    expect(decideIdle({ ...base, now: 29 * MIN, lastUse: 0, stopAt: 30 * MIN })).toEqual({ kind: "wait", stopAt: 30 * MIN });
    expect(decideIdle({ ...base, now: 30 * MIN, lastUse: 0, stopAt: 30 * MIN })).toEqual({ kind: "stop", idleMs: 30 * MIN });
  });

  it("never stops without a whole warning first, even long past the timeout (the culler was down)", () => {
    expect(decideIdle({ ...base, now: 90 * MIN, lastUse: 0 })).toEqual({ kind: "warn", stopAt: 95 * MIN });
  });

  it("takes the warning back when the workspace is used again", () => {
    expect(decideIdle({ ...base, now: 27 * MIN, lastUse: 26 * MIN, stopAt: 30 * MIN })).toEqual({ kind: "clear" });
  });

  it("restarts the clock on Keep running", () => {
    expect(decideIdle({ ...base, now: 31 * MIN, lastUse: 0, snoozedAt: 28 * MIN })).toEqual({ kind: "active" });
    expect(decideIdle({ ...base, now: 53 * MIN, lastUse: 0, snoozedAt: 28 * MIN })).toEqual({ kind: "warn", stopAt: 58 * MIN });
  });

  it("keeps the warning to half a short timeout", () => {
    expect(decideIdle({ ...base, timeoutMs: 4 * MIN, now: 2 * MIN, lastUse: 0 })).toEqual({ kind: "warn", stopAt: 4 * MIN });
    expect(decideIdle({ ...base, timeoutMs: 4 * MIN, now: 1.9 * MIN, lastUse: 0 })).toEqual({ kind: "active" });
  });
});

describe("snoozesAfterUse", () => {
  it("counts Keep running presses until real use follows one", () => {
    expect(snoozesAfterUse(2, 100, 50)).toBe(2);
    expect(snoozesAfterUse(2, 100, 150)).toBe(0);
    expect(snoozesAfterUse(0, null, 150)).toBe(0);
  });
});
