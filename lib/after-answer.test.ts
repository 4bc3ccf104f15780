import { describe, expect, it } from "vitest";
import { afterAnswer, answering } from "./after-answer";

const nextTurn = () => new Promise((r) => setImmediate(r));

describe("afterAnswer", () => {
  it("queues work for the end of the answer, in order, and hands it to the scheduler only then", async () => {
    const ran: string[] = [];
    let scheduled: (() => void) | null = null;
    const result = await answering(async () => {
      afterAnswer(() => ran.push("a"));
      await nextTurn();
      afterAnswer(() => ran.push("b"));
      await nextTurn();
      expect(ran).toEqual([]);
      return 42;
    }, (work) => (scheduled = work));
    expect(result).toBe(42);
    expect(ran).toEqual([]);
    scheduled!();
    expect(ran).toEqual(["a", "b"]);
  });

  it("hands the work on when the answer failed too, and does not call the scheduler when nothing was queued", async () => {
    const ran: string[] = [];
    let calls = 0;
    await expect(answering(async () => {
      afterAnswer(() => ran.push("x"));
      throw new Error("boom");
    }, (work) => (calls++, work()))).rejects.toThrow("boom");
    expect(ran).toEqual(["x"]);
    await answering(async () => 1, () => calls++);
    expect(calls).toBe(1);
  });

  it("runs work soon, without a scheduler, outside any answer and after the answer's scope has closed", async () => {
    const ran: string[] = [];
    afterAnswer(() => ran.push("outside"));
    let later: Promise<void> | undefined;
    await answering(async () => {
      // Background work that outlives the answer (a launch that pulls on): its queue is closed by the time it asks.
      later = new Promise((resolve) => setTimeout(() => {
        afterAnswer(() => ran.push("late"));
        resolve();
      }, 5));
    }, () => ran.push("scheduler called"));
    await later;
    await nextTurn();
    expect(ran).toEqual(["outside", "late"]);
  });

  it("a queued function that throws does not keep the others from running, in a scope or outside one", async () => {
    const ran: string[] = [];
    let scheduled: (() => void) | null = null;
    await answering(async () => {
      afterAnswer(() => {
        throw new Error("first fails");
      });
      afterAnswer(() => ran.push("second"));
    }, (work) => (scheduled = work));
    expect(() => scheduled!()).not.toThrow();
    afterAnswer(() => {
      throw new Error("outside fails");
    });
    afterAnswer(() => ran.push("outside"));
    await nextTurn();
    expect(ran).toEqual(["second", "outside"]);
  });

  it("runs the work on the next turn when the scheduler throws (no request to wait for)", async () => {
    const ran: string[] = [];
    await answering(async () => afterAnswer(() => ran.push("y")), () => {
      throw new Error("after() called outside a request scope");
    });
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual(["y"]);
  });
});
