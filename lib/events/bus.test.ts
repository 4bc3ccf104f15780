import { afterEach, describe, expect, it, vi } from "vitest";
import { listenerCounts, publish, subscribe, subscribeUser, type WorkspaceEvent } from "./bus";

const ev = (userId: string, workspaceId = "w1"): WorkspaceEvent => ({ type: "workspace-deleted", userId, workspaceId });

const offs: (() => void)[] = [];
afterEach(() => {
  for (const off of offs.splice(0)) off();
});

describe("the event bus", () => {
  it("gives a user's channel only that user's events, and 'all' every event", () => {
    const got: Record<string, WorkspaceEvent[]> = { a: [], b: [], all: [] };
    offs.push(subscribeUser("a", (e) => got.a.push(e)), subscribeUser("b", (e) => got.b.push(e)), subscribe((e) => got.all.push(e)));
    publish(ev("a", "w1"));
    publish(ev("b", "w2"));
    publish(ev("c", "w3"));
    publish({ type: "settings-changed" });
    expect(got.a.map((e) => e.userId)).toEqual(["a"]);
    expect(got.b.map((e) => e.userId)).toEqual(["b"]);
    expect(got.all.map((e) => e.type)).toEqual(["workspace-deleted", "workspace-deleted", "workspace-deleted", "settings-changed"]);
  });

  it("reaches one user's listeners without calling anyone else's", () => {
    let calls = 0;
    for (let i = 0; i < 100; i++) offs.push(subscribeUser(`u${i}`, () => calls++));
    publish(ev("u7"));
    expect(calls).toBe(1);
  });

  it("lives on globalThis, so a second copy of the module (Next's graph) shares it", async () => {
    const got: WorkspaceEvent[] = [];
    offs.push(subscribeUser("a", (e) => got.push(e)));
    vi.resetModules();
    const again = await import("./bus");
    expect(again.publish).not.toBe(publish); // a second instance of the module, as in a second module graph
    again.publish(ev("a"));
    expect(got).toHaveLength(1);
  });

  it("unsubscribing removes the listener and leaves no channel behind", () => {
    const before = listenerCounts();
    const offA = subscribeUser("gone", () => {});
    const offAll = subscribe(() => {});
    expect(listenerCounts()).toEqual({ all: before.all + 1, users: before.users + 1 });
    offA();
    offAll();
    expect(listenerCounts()).toEqual(before);
    let called = false;
    const off = subscribeUser("gone", () => (called = true));
    off();
    publish(ev("gone"));
    expect(called).toBe(false);
  });
});
