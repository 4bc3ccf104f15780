import { describe, expect, it } from "vitest";
import { cachedCheck } from "./admin-check";

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("the cached admin check", () => {
  it("reads once for a burst of checks, and again after the TTL", async () => {
    const c = clock();
    let reads = 0;
    const check = cachedCheck(async () => (reads++, true), { ttlMs: 1000, now: c.now });
    const first = await Promise.all([check.check(), check.check(), check.check()]);
    expect(first).toEqual([true, true, true]);
    expect(reads).toBe(1);
    expect(check.check()).toBe(true); // settled: answered without a promise
    c.advance(999);
    expect(check.check()).toBe(true);
    expect(reads).toBe(1);
    c.advance(1);
    expect(await check.check()).toBe(true);
    expect(reads).toBe(2);
  });

  it("forget() makes the next check read, and a read in flight at that moment is not kept", async () => {
    const c = clock();
    let answer = true;
    let reads = 0;
    let release: () => void = () => {};
    const check = cachedCheck(
      () =>
        new Promise<boolean>((resolve) => {
          reads++;
          const value = answer;
          release = () => resolve(value);
        }),
      { now: c.now },
    );
    const stale = check.check() as Promise<boolean>;
    answer = false;
    check.forget();
    release();
    expect(await stale).toBe(true); // asked before the change: may still see the old answer
    const fresh = check.check();
    expect(fresh).toBeInstanceOf(Promise);
    release();
    expect(await fresh).toBe(false);
    expect(reads).toBe(2);
    expect(check.check()).toBe(false);
  });

  it("a failed read is a no, and is not kept past the TTL", async () => {
    const c = clock();
    let fail = true;
    const check = cachedCheck(async () => {
      if (fail) throw new Error("database locked");
      return true;
    }, { now: c.now });
    expect(await check.check()).toBe(false);
    fail = false;
    c.advance(1000);
    expect(await check.check()).toBe(true);
  });
});
