import { describe, expect, it } from "vitest";
import { AccessCache, KeyedCache, USER_TTL_MS, WORKSPACE_TTL_MS, type AccessLoaders, type UserAccess, type WorkspaceAccess } from "./access-cache";

/** Loaders that count their reads and answer from mutable "database" rows; `gate` holds a read until released. */
function fakeDb() {
  const workspaces = new Map<string, WorkspaceAccess>();
  const users = new Map<string, UserAccess>();
  const reads = { workspace: 0, user: 0, settings: 0, session: 0 };
  const revoked = new Set<string>();
  const tokens = new Map<string, string>();
  let adminAccess = false;
  let gate: Promise<void> | null = null;
  // Each read copies the row as it is when the read starts, like a database read that a later write does not change.
  const reader =
    <T extends object>(rows: Map<string, T>, kind: "workspace" | "user") =>
    async (id: string): Promise<T | null> => {
      reads[kind]++;
      const row = rows.get(id);
      const copy = row ? { ...row } : null;
      if (gate) await gate;
      return copy;
    };
  const loaders: AccessLoaders = {
    workspace: reader(workspaces, "workspace"),
    user: reader(users, "user"),
    async sessionRevoked(sid) {
      reads.session++;
      return revoked.has(sid);
    },
    async tokenUser(hash) {
      return tokens.get(hash) ?? null;
    },
    async adminAccess() {
      reads.settings++;
      return adminAccess;
    },
  };
  return {
    workspaces,
    users,
    revoked,
    tokens,
    reads,
    loaders,
    setAdminAccess: (v: boolean) => (adminAccess = v),
    hold(): () => void {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
  };
}

const running = (ownerId: string, target = "http://172.18.0.2:8888"): WorkspaceAccess => ({ ownerId, status: "running", jupyterToken: "t", instance: "c1@1", target });

describe("AccessCache", () => {
  it("reads a workspace, a user and the setting once, then answers from memory", async () => {
    const f = fakeDb();
    f.workspaces.set("ws1", running("u1"));
    f.users.set("u1", { disabled: false, role: "user", sessionEpoch: 0 });
    const cache = new AccessCache(f.loaders);
    for (let i = 0; i < 5; i++) {
      expect(await cache.workspace("ws1")).toMatchObject({ ownerId: "u1", target: "http://172.18.0.2:8888" });
      expect(await cache.user("u1")).toEqual({ disabled: false, role: "user", sessionEpoch: 0 });
      expect(await cache.adminAccess()).toBe(false);
    }
    expect(f.reads).toEqual({ workspace: 1, user: 1, settings: 1, session: 0 });
  });

  it("drops a workspace on its workspace event (new container, new address) and on its deletion", async () => {
    const f = fakeDb();
    f.workspaces.set("ws1", running("u1"));
    f.workspaces.set("ws2", running("u2", "http://172.18.0.9:8888"));
    const cache = new AccessCache(f.loaders);
    await cache.workspace("ws1");
    await cache.workspace("ws2");
    f.workspaces.set("ws1", running("u1", "http://172.18.0.3:8888"));
    cache.handle({ type: "workspace", userId: "u1", workspaceId: "ws1", workspace: {} });
    expect((await cache.workspace("ws1"))?.target).toBe("http://172.18.0.3:8888");
    f.workspaces.delete("ws1");
    cache.handle({ type: "workspace-deleted", userId: "u1", workspaceId: "ws1" });
    expect(await cache.workspace("ws1")).toBeNull();
    // The other workspace was never touched.
    expect((await cache.workspace("ws2"))?.target).toBe("http://172.18.0.9:8888");
    expect(f.reads.workspace).toBe(4);
  });

  it("drops a user, and the workspaces they own, on user-changed; pull progress drops nothing", async () => {
    const f = fakeDb();
    f.workspaces.set("ws1", running("u1"));
    f.workspaces.set("ws2", running("u2"));
    f.users.set("u1", { disabled: false, role: "admin", sessionEpoch: 0 });
    f.users.set("u2", { disabled: false, role: "user", sessionEpoch: 0 });
    const cache = new AccessCache(f.loaders);
    await Promise.all([cache.workspace("ws1"), cache.workspace("ws2"), cache.user("u1"), cache.user("u2")]);
    cache.handle({ type: "pull-progress", userId: "u1", workspaceId: "ws1", image: "x", bytesDone: 1, bytesTotal: 2, layersDone: 0, layersTotal: 1 });
    expect(f.reads).toMatchObject({ workspace: 2, user: 2 });

    f.users.set("u1", { disabled: false, role: "user", sessionEpoch: 0 });
    cache.handle({ type: "user-changed", userId: "u1" });
    expect(await cache.user("u1")).toEqual({ disabled: false, role: "user", sessionEpoch: 0 });
    expect(await cache.user("u2")).toEqual({ disabled: false, role: "user", sessionEpoch: 0 });
    await cache.workspace("ws1");
    await cache.workspace("ws2");
    expect(f.reads).toMatchObject({ workspace: 3, user: 3 });

    f.users.delete("u1");
    cache.handle({ type: "user-changed", userId: "u1" });
    expect(await cache.user("u1")).toBeNull();
  });

  it("drops the admin-access setting on settings-changed", async () => {
    const f = fakeDb();
    const cache = new AccessCache(f.loaders);
    f.setAdminAccess(true);
    expect(await cache.adminAccess()).toBe(true);
    f.setAdminAccess(false);
    expect(await cache.adminAccess()).toBe(true);
    cache.handle({ type: "settings-changed" });
    expect(await cache.adminAccess()).toBe(false);
  });

  it("does not keep a fill that read the row before the change its event announces", async () => {
    const f = fakeDb();
    f.users.set("u1", { disabled: false, role: "admin", sessionEpoch: 0 });
    const cache = new AccessCache(f.loaders);
    const release = f.hold();
    const stale = cache.user("u1"); // reads the row as it is now, then waits
    f.users.set("u1", { disabled: true, role: "admin", sessionEpoch: 0 });
    cache.handle({ type: "user-changed", userId: "u1" });
    // A request that comes after the event does not join the stale fill.
    const next = cache.user("u1");
    release();
    expect(await stale).toEqual({ disabled: false, role: "admin", sessionEpoch: 0 });
    expect(await next).toEqual({ disabled: true, role: "admin", sessionEpoch: 0 });
    expect(await cache.user("u1")).toEqual({ disabled: true, role: "admin", sessionEpoch: 0 });
    expect(f.reads.user).toBe(2);
  });

  it("shares one fill among concurrent requests", async () => {
    const f = fakeDb();
    f.workspaces.set("ws1", running("u1"));
    const cache = new AccessCache(f.loaders);
    const release = f.hold();
    const all = Promise.all([cache.workspace("ws1"), cache.workspace("ws1"), cache.workspace("ws1")]);
    release();
    expect((await all).map((w) => w?.ownerId)).toEqual(["u1", "u1", "u1"]);
    expect(f.reads.workspace).toBe(1);
  });

  it("reads a user again after USER_TTL_MS (a change made by the CLI, in another process, publishes nothing here)", async () => {
    const f = fakeDb();
    let now = 1_000_000;
    f.users.set("u1", { disabled: false, role: "user", sessionEpoch: 0 });
    f.workspaces.set("ws1", running("u1"));
    const cache = new AccessCache(f.loaders, () => now);
    await cache.user("u1");
    await cache.workspace("ws1");
    f.users.set("u1", { disabled: true, role: "user", sessionEpoch: 0 });
    now += USER_TTL_MS - 1;
    expect((await cache.user("u1"))?.disabled).toBe(false);
    now += 1;
    expect((await cache.user("u1"))?.disabled).toBe(true);
    // Workspaces keep their entry longer: only events change them.
    await cache.workspace("ws1");
    expect(f.reads.workspace).toBe(1);
    now += WORKSPACE_TTL_MS;
    await cache.workspace("ws1");
    expect(f.reads.workspace).toBe(2);
  });

  it("does not keep a running workspace whose address is unknown (Docker unreachable), nor a failed read", async () => {
    const f = fakeDb();
    f.workspaces.set("ws1", { ...running("u1"), target: null });
    const cache = new AccessCache(f.loaders);
    await cache.workspace("ws1");
    await cache.workspace("ws1");
    expect(f.reads.workspace).toBe(2);

    let fail = true;
    const failing = new AccessCache({
      ...f.loaders,
      user: async () => {
        if (fail) throw new Error("SQLITE_BUSY");
        return { disabled: false, role: "user", sessionEpoch: 0 };
      },
    });
    await expect(failing.user("u1")).rejects.toThrow("SQLITE_BUSY");
    fail = false;
    expect(await failing.user("u1")).toEqual({ disabled: false, role: "user", sessionEpoch: 0 });
  });
});

describe("AccessCache sessions", () => {
  it("reads a session's revocation once, drops it when its user changes (sign-out), and keeps a revocation", async () => {
    const f = fakeDb();
    const cache = new AccessCache(f.loaders);
    expect(await cache.sessionRevoked("u1", "s1")).toBe(false);
    expect(await cache.sessionRevoked("u1", "s1")).toBe(false);
    expect(f.reads.session).toBe(1);
    f.revoked.add("s1");
    cache.handle({ type: "user-changed", userId: "u2" });
    expect(await cache.sessionRevoked("u1", "s1")).toBe(false);
    cache.handle({ type: "user-changed", userId: "u1" });
    expect(await cache.sessionRevoked("u1", "s1")).toBe(true);
    expect(f.reads.session).toBe(2);
  });

  it("asks a live session again after the user TTL, as it does for users (a sign-out in another process)", async () => {
    const f = fakeDb();
    let now = 1_000;
    const cache = new AccessCache(f.loaders, () => now);
    expect(await cache.sessionRevoked("u1", "s1")).toBe(false);
    f.revoked.add("s1");
    now += USER_TTL_MS + 1;
    expect(await cache.sessionRevoked("u1", "s1")).toBe(true);
  });
});

describe("AccessCache tokens", () => {
  it("keeps a token's user for the user TTL, and drops it at once when that user changes (a revocation)", async () => {
    const f = fakeDb();
    let now = 1_000;
    const cache = new AccessCache(f.loaders, () => now);
    f.tokens.set("h1", "u1");
    expect(await cache.tokenUser("h1")).toBe("u1");
    f.tokens.delete("h1");
    expect(await cache.tokenUser("h1")).toBe("u1");
    cache.handle({ type: "user-changed", userId: "u1" });
    expect(await cache.tokenUser("h1")).toBeNull();
    f.tokens.set("h1", "u1");
    now += USER_TTL_MS + 1;
    expect(await cache.tokenUser("h1")).toBe("u1");
  });
});

describe("KeyedCache", () => {
  it("keeps at most maxEntries, dropping the oldest first", async () => {
    let reads = 0;
    const cache = new KeyedCache(async (k) => (reads++, k.toUpperCase()), () => 60_000, Date.now, 3);
    for (const k of ["a", "b", "c", "d"]) await cache.get(k);
    expect(cache.size).toBe(3);
    await cache.get("b");
    expect(reads).toBe(4);
    await cache.get("a");
    expect(reads).toBe(5);
  });
});
