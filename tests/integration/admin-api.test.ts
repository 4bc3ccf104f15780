import crypto from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { freePort, startServer, type GantryServer } from "../helpers/gantry-server";
import { createTokenWithCli } from "../helpers/run-cli";
import { login } from "../helpers/http-session";
import {
  apiFor,
  BUSYBOX_IMAGE,
  containersOfUsers,
  createTokenByLogin,
  envOf,
  expectApiError,
  expectJson,
  inspect,
  QUICK_STOP_COMMAND,
  removeUsersDockerResources,
  STAND_IN_NVIDIA_SMI,
  standInInventoryCsv,
  csvUuids,
  dockerClient,
  type Api,
} from "../helpers/gantry-api";

// The admin API (users, quotas, settings, GPU inventory, audit) on one real server with the stand-in nvidia-smi's
// fixed inventory of 4 GPUs and the engine's default timeouts, driven with Bearer tokens.

const ADMIN = { email: "admin@gantry.test", password: "admin-password-123" };
const ALICE = { email: "alice@gantry.test", password: "alice-password-1" };
const GiB = 1024 ** 3;

type Quota = { maxGpus: number; maxMemoryGb: number; maxCpus: number; maxWorkspaces: number };
type Usage = { gpus: number; memoryGb: number; cpus: number; workspaces: number };
type UserRow = { id: string; email: string; name: string; role: string; disabled: boolean; createdAt: string; quota: Quota; usage: Usage };
type Settings = {
  defaultQuota: Quota;
  shmSizeGb: number | null;
  hostReserve: { memoryGb: number; cpus: number };
  dataPath: string | null;
  allowAdminWorkspaceAccess: boolean;
};
type AuditEvent = { id: string; at: string; actorId: string | null; actorEmail: string | null; action: string; targetType: string; targetId: string | null; before: any; after: any };
type AuditPage = { page: number | null; pageSize: number; total: number; nextCursor: string | null; events: AuditEvent[] };
type Workspace = { id: string; status: string; statusMessage: string; gpuDevices: { index: number; uuid: string }[]; containerId: string | null };

let dataDir: DataDir;
let server: GantryServer;
let api: Api;
let adminToken: string;
let adminId: string;
let alice: { id: string; token: string };
let imageId: string;
const userIds: string[] = [];
const tempDirs: string[] = [];
let seq = 0;

async function createUser(body: Record<string, unknown>, token = adminToken): Promise<Response> {
  return api("/api/admin/users", { method: "POST", token, json: body });
}

async function newUser(role: "user" | "admin" = "user"): Promise<{ id: string; email: string; password: string; token: string }> {
  const n = ++seq;
  const email = `user${n}@gantry.test`;
  const password = `password-of-user-${n}`;
  const created = await expectJson<{ id: string }>(await createUser({ email, password, role }), 201);
  userIds.push(created.id);
  return { id: created.id, email, password, token: await createTokenByLogin(server.url, email, password) };
}

async function getSettings(): Promise<Settings> {
  return expectJson<Settings>(await api("/api/admin/settings", { token: adminToken }));
}

async function putSettings(patch: Record<string, unknown>): Promise<Response> {
  return api("/api/admin/settings", { method: "PUT", token: adminToken, json: patch });
}

async function allAudit(): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for (let page = 1; ; page++) {
    const body = await expectJson<AuditPage>(await api(`/api/admin/audit?page=${page}&pageSize=200`, { token: adminToken }));
    events.push(...body.events);
    if (body.events.length < 200) return events;
  }
}

async function auditText(): Promise<string> {
  const pages: string[] = [];
  for (let page = 1; ; page++) {
    const res = await api(`/api/admin/audit?page=${page}&pageSize=200`, { token: adminToken });
    const text = await res.text();
    expect(res.status).toBe(200);
    pages.push(text);
    if ((JSON.parse(text) as AuditPage).events.length < 200) return pages.join("\n");
  }
}

beforeAll(async () => {
  dataDir = makeDataDir("gantry-admin-");
  server = await startServer({
    dataDir: dataDir.path,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    env: { GANTRY_NVIDIA_SMI: STAND_IN_NVIDIA_SMI, GANTRY_FAKE_GPU_CSV: undefined, GANTRY_PROXY_PORT: String(await freePort()) },
  });
  api = apiFor(server.url);
  adminToken = await createTokenWithCli(dataDir.path, ADMIN.email);
  adminId = (await expectJson<{ id: string }>(await api("/api/me", { token: adminToken }))).id;
  const created = await expectJson<{ id: string }>(await createUser({ email: ALICE.email, password: ALICE.password }), 201);
  userIds.push(created.id);
  alice = { id: created.id, token: await createTokenByLogin(server.url, ALICE.email, ALICE.password) };
  const image = await expectJson<{ id: string }>(
    await api("/api/admin/images", { method: "POST", token: adminToken, json: { name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND } }),
    201,
  );
  imageId = image.id;
});

afterAll(async () => {
  await removeUsersDockerResources([...userIds, ...(adminId ? [adminId] : [])]).catch(() => {});
  await server?.stop();
  dataDir?.remove();
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("every /api/admin route is for admins only", () => {
  const routes = (): [string, string, unknown?][] => [
    ["GET", "/api/admin/users"],
    ["POST", "/api/admin/users", { email: "mallory@gantry.test", password: "mallory-password-1", role: "admin" }],
    ["PATCH", `/api/admin/users/${adminId}`, { disabled: true }],
    ["PATCH", `/api/admin/users/${alice.id}`, { role: "admin" }],
    ["GET", `/api/admin/users/${alice.id}/quota`],
    ["PUT", `/api/admin/users/${alice.id}/quota`, { maxGpus: 64, maxMemoryGb: 4096, maxCpus: 1024, maxWorkspaces: 100 }],
    ["GET", "/api/admin/settings"],
    ["PUT", "/api/admin/settings", { dataPath: "/srv" }],
    ["GET", "/api/admin/gpus"],
    ["POST", "/api/admin/gpus/refresh"],
    ["GET", "/api/admin/audit"],
    ["GET", "/api/admin/images"],
    ["POST", "/api/admin/images", { name: "evil", ref: "evil/image:1" }],
    ["GET", `/api/admin/images/${imageId}`],
    ["PATCH", `/api/admin/images/${imageId}`, { ref: "evil/image:1" }],
    ["DELETE", `/api/admin/images/${imageId}`],
  ];

  it("answers 403 forbidden to a signed-in non-admin, and changes nothing", async () => {
    const auditBefore = (await expectJson<AuditPage>(await api("/api/admin/audit", { token: adminToken }))).total;
    const quotaBefore = await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { token: adminToken }));
    const settingsBefore = await getSettings();
    for (const [method, pathname, json] of routes()) {
      const res = await api(pathname, { method, token: alice.token, json });
      const err = await expectApiError(res, 403, "forbidden");
      expect(err.message.length, `${method} ${pathname}`).toBeGreaterThan(5);
    }
    expect((await expectJson<AuditPage>(await api("/api/admin/audit", { token: adminToken }))).total).toBe(auditBefore);
    expect(await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { token: adminToken }))).toEqual(quotaBefore);
    expect(await getSettings()).toEqual(settingsBefore);
    const users = await expectJson<UserRow[]>(await api("/api/admin/users", { token: adminToken }));
    expect(users.map((u) => u.email)).not.toContain("mallory@gantry.test");
    expect(users.find((u) => u.id === alice.id)!.role).toBe("user");
    expect(users.find((u) => u.id === adminId)!.disabled).toBe(false);
    expect(await expectJson<{ ref: string }>(await api(`/api/admin/images/${imageId}`, { token: adminToken }))).toMatchObject({ ref: BUSYBOX_IMAGE });
  });

  it("answers 401 unauthorized without credentials", async () => {
    for (const [method, pathname, json] of routes()) {
      await expectApiError(await api(pathname, { method, json }), 401, "unauthorized");
    }
  });

  it("checks the role on every request: a user made admin gets in at once, and is out again at once when demoted", async () => {
    const bob = await newUser();
    await expectApiError(await api("/api/admin/users", { token: bob.token }), 403, "forbidden");
    await expectJson(await api(`/api/admin/users/${bob.id}`, { method: "PATCH", token: adminToken, json: { role: "admin" } }));
    await expectJson(await api("/api/admin/users", { token: bob.token }));
    await expectJson(await api(`/api/admin/users/${bob.id}`, { method: "PATCH", token: adminToken, json: { role: "user" } }));
    await expectApiError(await api("/api/admin/users", { token: bob.token }), 403, "forbidden");
  });
});

describe("users", () => {
  it("GET /api/admin/users lists each user with role, disabled, quota and current use, and no password hash", async () => {
    const res = await api("/api/admin/users", { token: adminToken });
    const text = await res.text();
    expect(res.status).toBe(200);
    const users = JSON.parse(text) as UserRow[];
    const admin = users.find((u) => u.email === ADMIN.email)!;
    const a = users.find((u) => u.email === ALICE.email)!;
    expect(admin).toMatchObject({ id: adminId, role: "admin", disabled: false });
    expect(a).toMatchObject({ id: alice.id, name: "alice", role: "user", disabled: false });
    for (const u of users) {
      expect(u.quota).toEqual({ maxGpus: expect.any(Number), maxMemoryGb: expect.any(Number), maxCpus: expect.any(Number), maxWorkspaces: expect.any(Number), gpuHoursBudget: null, budgetPeriod: "week" });
      expect(u.usage).toEqual({ gpus: expect.any(Number), memoryGb: expect.any(Number), cpus: expect.any(Number), workspaces: expect.any(Number) });
      expect(u).not.toHaveProperty("passwordHash");
    }
    expect(text).not.toMatch(/passwordHash|\$2[aby]\$\d\d\$/);
  });

  it("lists for each user the same quota, use and budget as that user's own quota read (grouped queries, not one per user)", async () => {
    const [a, b, c] = [await newUser(), await newUser(), await newUser()];
    const put = (id: string, quota: Record<string, unknown>) => api(`/api/admin/users/${id}/quota`, { method: "PUT", token: adminToken, json: quota });
    await expectJson(await put(a.id, { maxGpus: 1, maxMemoryGb: 8, maxCpus: 2, maxWorkspaces: 3, gpuHoursBudget: 5, budgetPeriod: "month" }));
    await expectJson(await put(b.id, { maxGpus: 1, maxMemoryGb: 8, maxCpus: 2, maxWorkspaces: 3, gpuHoursBudget: 2, budgetPeriod: "week" }));
    // Within the default host reserve on a 2-CPU machine (1 CPU left for workspaces): two held at once.
    const held: { id: string; token: string }[] = [];
    const launch = async (token: string, name: string, gpus: number) => {
      const ws = await expectJson<Workspace>(await api("/api/workspaces", { method: "POST", token, json: { name, imageId, gpus, memoryGb: 0.5, cpus: 0.5 } }), 201);
      held.push({ id: ws.id, token });
      return ws;
    };
    try {
      await launch(b.token, "with-gpu", 1);
      const first = await launch(c.token, "stopped-one", 0);
      await expectJson(await api(`/api/workspaces/${first.id}/stop`, { method: "POST", token: c.token }));
      await launch(c.token, "running-one", 0);
      const list = await expectJson<(UserRow & { budgetUsed: number | null })[]>(await api("/api/admin/users", { token: adminToken }));
      for (const id of [adminId, alice.id, a.id, b.id, c.id]) {
        const row = list.find((u) => u.id === id)!;
        const own = await expectJson<{ quota: Quota; usage: Usage; budget: { used: number } | null }>(await api(`/api/admin/users/${id}/quota`, { token: adminToken }));
        expect(row.quota, id).toEqual(own.quota);
        expect(row.usage, id).toEqual(own.usage);
        if (own.budget === null) expect(row.budgetUsed, id).toBeNull();
        // b's GPU interval is open: its use grows between the two reads, by far less than a hundredth of an hour.
        else expect(Math.abs(row.budgetUsed! - own.budget.used), id).toBeLessThan(0.01);
      }
      expect(list.find((u) => u.id === b.id)!.usage).toEqual({ gpus: 1, memoryGb: 0.5, cpus: 0.5, workspaces: 1 });
      expect(list.find((u) => u.id === c.id)!.usage).toEqual({ gpus: 0, memoryGb: 0.5, cpus: 0.5, workspaces: 2 });
      expect(list.find((u) => u.id === a.id)!.usage).toEqual({ gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 });
      expect(list.find((u) => u.id === b.id)!.budgetUsed).toBeGreaterThan(0);
    } finally {
      for (const w of held) await api(`/api/workspaces/${w.id}`, { method: "DELETE", token: w.token });
    }
  });

  it("POST /api/admin/users creates a user with the default quota who can sign in", async () => {
    const res = await createUser({ email: "  Carol@Gantry.Test ", name: "Carol C", password: "carol-password-1", role: "user" });
    const carol = await expectJson<{ id: string; email: string; name: string; role: string; disabled: boolean }>(res, 201);
    userIds.push(carol.id);
    expect(carol).toMatchObject({ email: "carol@gantry.test", name: "Carol C", role: "user", disabled: false });
    expect(carol).not.toHaveProperty("passwordHash");
    expect(Object.keys(carol).sort()).toEqual(["createdAt", "disabled", "email", "id", "name", "role"]);
    const { quota, usage } = await expectJson(await api(`/api/admin/users/${carol.id}/quota`, { token: adminToken }));
    expect(quota).toEqual((await getSettings()).defaultQuota);
    expect(usage).toEqual({ gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 });
    expect((await login(server.url, "carol@gantry.test", "carol-password-1")).ok).toBe(true);
    // Same email again, in another case: a conflict, not a second account.
    await expectApiError(await createUser({ email: "CAROL@gantry.test", password: "carol-password-2" }), 409, "conflict");
  });

  it("POST /api/admin/users can make an admin", async () => {
    const dave = await newUser("admin");
    await expectJson(await api("/api/admin/settings", { token: dave.token }));
  });

  it.each([
    ["a malformed email", { email: "not-an-email", password: "long-enough-1" }, "email"],
    ["a short password", { email: "eve@gantry.test", password: "short" }, "password"],
    ["an unknown role", { email: "eve@gantry.test", password: "long-enough-1", role: "root" }, "role"],
    ["a missing email", { password: "long-enough-1" }, "email"],
    ["an unknown field", { email: "eve@gantry.test", password: "long-enough-1", isAdmin: true }, "isAdmin"],
  ])("POST /api/admin/users refuses %s with 422 naming the field", async (_name, body, field) => {
    const err = await expectApiError(await createUser(body), 422, "validation_failed");
    expect(err.message).toContain(field);
    const users = await expectJson<UserRow[]>(await api("/api/admin/users", { token: adminToken }));
    expect(users.map((u) => u.email)).not.toContain("eve@gantry.test");
  });

  it("PATCH /api/admin/users/:id renames, disables (the user's token stops working at once) and enables", async () => {
    const frank = await newUser();
    const renamed = await expectJson(await api(`/api/admin/users/${frank.id}`, { method: "PATCH", token: adminToken, json: { name: "Frank F" } }));
    expect(renamed).toMatchObject({ id: frank.id, name: "Frank F", role: "user", disabled: false });
    expect(renamed).not.toHaveProperty("passwordHash");

    expect(await expectJson(await api(`/api/admin/users/${frank.id}`, { method: "PATCH", token: adminToken, json: { disabled: true } }))).toMatchObject({ disabled: true });
    await expectApiError(await api("/api/me", { token: frank.token }), 401, "unauthorized");
    const listed = (await expectJson<UserRow[]>(await api("/api/admin/users", { token: adminToken }))).find((u) => u.id === frank.id)!;
    expect(listed.disabled).toBe(true);

    await expectJson(await api(`/api/admin/users/${frank.id}`, { method: "PATCH", token: adminToken, json: { disabled: false } }));
    expect((await expectJson(await api("/api/me", { token: frank.token }))).name).toBe("Frank F");
  });

  it("PATCH /api/admin/users/:id refuses to demote or disable the last enabled admin", async () => {
    const admins = (await expectJson<UserRow[]>(await api("/api/admin/users", { token: adminToken }))).filter((u) => u.role === "admin" && !u.disabled);
    // Demote every other admin first, so ADMIN is the last one.
    for (const a of admins.filter((x) => x.id !== adminId)) {
      await expectJson(await api(`/api/admin/users/${a.id}`, { method: "PATCH", token: adminToken, json: { role: "user" } }));
    }
    await expectApiError(await api(`/api/admin/users/${adminId}`, { method: "PATCH", token: adminToken, json: { role: "user" } }), 409, "conflict");
    await expectApiError(await api(`/api/admin/users/${adminId}`, { method: "PATCH", token: adminToken, json: { disabled: true } }), 409, "conflict");
    expect((await expectJson(await api("/api/me", { token: adminToken }))).role).toBe("admin");
  });

  it.each([
    ["an empty body", {}, null],
    ["a non-boolean disabled", { disabled: "yes" }, "disabled"],
    ["an unknown role", { role: "owner" }, "role"],
    ["an unknown field", { email: "x@gantry.test" }, "email"],
    ["an empty name", { name: "   " }, "name"],
  ])("PATCH /api/admin/users/:id refuses %s with 422", async (_name, body, field) => {
    const err = await expectApiError(await api(`/api/admin/users/${alice.id}`, { method: "PATCH", token: adminToken, json: body }), 422, "validation_failed");
    if (field) expect(err.message).toContain(field);
  });

  it("answers 404 for users that do not exist", async () => {
    await expectApiError(await api("/api/admin/users/no-such-user", { method: "PATCH", token: adminToken, json: { name: "x" } }), 404, "not_found");
    await expectApiError(await api("/api/admin/users/no-such-user/quota", { token: adminToken }), 404, "not_found");
    await expectApiError(
      await api("/api/admin/users/no-such-user/quota", { method: "PUT", token: adminToken, json: { maxGpus: 1, maxMemoryGb: 1, maxCpus: 1, maxWorkspaces: 1 } }),
      404,
      "not_found",
    );
  });
});

describe("quotas", () => {
  it("GET and PUT /api/admin/users/:id/quota, and /api/me reports the same quota", async () => {
    const got = await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { token: adminToken }));
    expect(got).toEqual({ userId: alice.id, quota: expect.any(Object), usage: { gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 }, budget: null });
    // A quota given without a budget has none (PUT replaces the whole quota).
    const quota = { maxGpus: 2, maxMemoryGb: 12.5, maxCpus: 3.5, maxWorkspaces: 4, gpuHoursBudget: null, budgetPeriod: "week" };
    const put = await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { method: "PUT", token: adminToken, json: { maxGpus: 2, maxMemoryGb: 12.5, maxCpus: 3.5, maxWorkspaces: 4 } }));
    expect(put).toEqual({ userId: alice.id, quota, usage: { gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 }, budget: null });
    expect((await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { token: adminToken }))).quota).toEqual(quota);
    const me = await expectJson(await api("/api/me", { token: alice.token }));
    expect(me).toMatchObject({ id: alice.id, email: ALICE.email, role: "user", quota, usage: { gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 } });
    // The bounds are accepted as bounds.
    const edges = { maxGpus: 0, maxMemoryGb: 0, maxCpus: 0, maxWorkspaces: 0, gpuHoursBudget: 0, budgetPeriod: "month" };
    expect((await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { method: "PUT", token: adminToken, json: edges }))).quota).toEqual(edges);
    await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { method: "PUT", token: adminToken, json: quota }));
  });

  const VALID: Quota = { maxGpus: 1, maxMemoryGb: 8, maxCpus: 2, maxWorkspaces: 3 };
  it.each([
    ["a negative GPU count", JSON.stringify({ ...VALID, maxGpus: -1 }), "maxGpus"],
    ["1.5 GPUs", JSON.stringify({ ...VALID, maxGpus: 1.5 }), "maxGpus"],
    ["0.3 GB of memory", JSON.stringify({ ...VALID, maxMemoryGb: 0.3 }), "maxMemoryGb"],
    ["0.25 CPUs", JSON.stringify({ ...VALID, maxCpus: 0.25 }), "maxCpus"],
    ['"4" (a string) workspaces', JSON.stringify({ ...VALID, maxWorkspaces: "4" }), "maxWorkspaces"],
    ["1e309 GPUs (raw JSON, Infinity)", `{"maxGpus": 1e309, "maxMemoryGb": 8, "maxCpus": 2, "maxWorkspaces": 3}`, "maxGpus"],
    ["2^53 + 1 GB of memory", `{"maxGpus": 1, "maxMemoryGb": 9007199254740993, "maxCpus": 2, "maxWorkspaces": 3}`, "maxMemoryGb"],
    ["a million CPUs", JSON.stringify({ ...VALID, maxCpus: 1_000_000 }), "maxCpus"],
    ["1000 workspaces", JSON.stringify({ ...VALID, maxWorkspaces: 1000 }), "maxWorkspaces"],
    ["a null", JSON.stringify({ ...VALID, maxGpus: null }), "maxGpus"],
    ["a missing field", JSON.stringify({ maxGpus: 1, maxMemoryGb: 8, maxWorkspaces: 3 }), "maxCpus"],
    ["an unknown field", JSON.stringify({ ...VALID, maxDisks: 2 }), "maxDisks"],
  ])("PUT quota refuses %s with 422 naming the field, and changes nothing", async (_name, body, field) => {
    const before = await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { token: adminToken }));
    const res = await api(`/api/admin/users/${alice.id}/quota`, { method: "PUT", token: adminToken, headers: { "content-type": "application/json" }, body });
    const err = await expectApiError(res, 422, "validation_failed");
    expect(err.message).toContain(field);
    expect(await expectJson(await api(`/api/admin/users/${alice.id}/quota`, { token: adminToken }))).toEqual(before);
  });
});

describe("settings", () => {
  it("GET /api/admin/settings has the default quota, shm default, host reserve and /data path", async () => {
    const s = await getSettings();
    expect(s).toMatchObject({
      defaultQuota: { maxGpus: expect.any(Number), maxMemoryGb: expect.any(Number), maxCpus: expect.any(Number), maxWorkspaces: expect.any(Number) },
      shmSizeGb: null,
      hostReserve: { memoryGb: expect.any(Number), cpus: expect.any(Number) },
      dataPath: null,
    });
  });

  it("PUT /api/admin/settings changes the default quota for users created afterwards only", async () => {
    const before = await getSettings();
    const existing = await newUser();
    const defaultQuota = { maxGpus: 3, maxMemoryGb: 24.5, maxCpus: 6, maxWorkspaces: 7, gpuHoursBudget: 12.5, budgetPeriod: "month" };
    const after = await expectJson<Settings>(await putSettings({ defaultQuota }));
    expect(after).toEqual({ ...before, defaultQuota });
    expect(await getSettings()).toEqual(after);
    const later = await newUser();
    expect((await expectJson(await api(`/api/admin/users/${later.id}/quota`, { token: adminToken }))).quota).toEqual(defaultQuota);
    expect((await expectJson(await api(`/api/admin/users/${existing.id}/quota`, { token: adminToken }))).quota).toEqual(before.defaultQuota);
    await expectJson(await putSettings({ defaultQuota: before.defaultQuota }));
  });

  it.each([
    ["a relative /data path", { dataPath: "datasets" }, "dataPath"],
    ["the Docker socket as /data", { dataPath: "/var/run/docker.sock" }, "dataPath"],
    ["/etc as /data", { dataPath: "/etc" }, "dataPath"],
    ["the host root as /data", { dataPath: "/" }, "dataPath"],
    ["a /data path with ..", { dataPath: "/srv/../etc" }, "dataPath"],
    ["a negative shm size", { shmSizeGb: -1 }, "shmSizeGb"],
    ["0.3 reserved CPUs", { hostReserve: { memoryGb: 2, cpus: 0.3 } }, "hostReserve.cpus"],
    ["1.5 GPUs in the default quota", { defaultQuota: { maxGpus: 1.5, maxMemoryGb: 16, maxCpus: 4, maxWorkspaces: 3 } }, "defaultQuota.maxGpus"],
    ["an unknown field", { dockerSocket: "/var/run/docker.sock" }, "dockerSocket"],
  ])("PUT /api/admin/settings refuses %s with 422 naming the field, and changes nothing", async (_name, patch, field) => {
    const before = await getSettings();
    const err = await expectApiError(await putSettings(patch), 422, "validation_failed");
    expect(err.message).toContain(field);
    expect(await getSettings()).toEqual(before);
  });

  it("the shm size and the read-only /data directory reach the container; the host reserve bounds launches", async () => {
    const before = await getSettings();
    const data = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-data-"));
    tempDirs.push(data);
    // World-writable on the host, so only the read-only mount can stop the container writing there.
    fs.chmodSync(data, 0o777);
    fs.writeFileSync(path.join(data, "hello.txt"), "shared dataset\n");
    fs.chmodSync(path.join(data, "hello.txt"), 0o644);
    const u = await newUser();
    try {
      await expectJson(await putSettings({ shmSizeGb: 0.5, dataPath: data, hostReserve: { memoryGb: 0, cpus: 0 } }));
      const ws = await expectJson<Workspace>(
        await api("/api/workspaces", { method: "POST", token: u.token, json: { name: "with-data", imageId, gpus: 0, memoryGb: 2, cpus: 0.5 } }),
        201,
      );
      expect(ws.status, ws.statusMessage).toBe("running");
      const info = await inspect(ws.containerId!);
      expect(info.HostConfig.ShmSize).toBe(0.5 * GiB);
      const dataMount = info.Mounts.find((m) => m.Destination === "/data")!;
      expect(dataMount).toMatchObject({ Type: "bind", Source: data, RW: false });
      expect(execFileSync("docker", ["exec", ws.containerId!, "cat", "/data/hello.txt"], { encoding: "utf8" })).toBe("shared dataset\n");
      expect(() => execFileSync("docker", ["exec", ws.containerId!, "touch", "/data/new"], { stdio: "pipe" })).toThrow();
      expect(fs.existsSync(path.join(data, "new"))).toBe(false);

      // Without an admin value, /dev/shm is half the memory limit (under 8 GB).
      await expectJson(await putSettings({ shmSizeGb: null, dataPath: null }));
      const ws2 = await expectJson<Workspace>(
        await api("/api/workspaces", { method: "POST", token: u.token, json: { name: "no-data", imageId, gpus: 0, memoryGb: 1, cpus: 0.5 } }),
        201,
      );
      const info2 = await inspect(ws2.containerId!);
      expect(info2.HostConfig.ShmSize).toBe(0.5 * GiB);
      expect(info2.Mounts.filter((m) => m.Type === "bind")).toEqual([]);

      // Reserve every CPU of the host for the system: nothing is left for a new workspace.
      const cpus = (await dockerClient().info()).NCPU as number;
      await expectJson(await putSettings({ hostReserve: { memoryGb: 0, cpus } }));
      const full = await expectApiError(
        await api("/api/workspaces", { method: "POST", token: u.token, json: { name: "no-room", imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } }),
        409,
        "conflict",
      );
      expect(full.message).toContain("CPUs: 0.5 requested, 0 left on this host");
    } finally {
      for (const ws of await expectJson<Workspace[]>(await api("/api/workspaces", { token: u.token }))) {
        expect((await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
      }
      await expectJson(await putSettings({ shmSizeGb: before.shmSizeGb, dataPath: before.dataPath, hostReserve: before.hostReserve }));
    }
  });
});

describe("GPU inventory", () => {
  const uuids = csvUuids(standInInventoryCsv());

  it("GET /api/admin/gpus lists the stand-in's GPUs as [{ index, uuid, name, memoryTotalMb, workspaceId, userId, since }]", async () => {
    const gpus = await expectJson<Record<string, unknown>[]>(await api("/api/admin/gpus", { token: adminToken }));
    expect(gpus).toHaveLength(4);
    for (const [i, g] of gpus.entries()) {
      expect(g).toMatchObject({ index: i, uuid: uuids[i], name: "NVIDIA A100-SXM4-80GB", memoryTotalMb: 81920, workspaceId: null, userId: null, since: null });
    }
  });

  it("POST /api/admin/gpus/refresh reads nvidia-smi again, reports no error, and is audited", async () => {
    const body = await expectJson<{ inventory: { refreshedAt: string; error: string | null; warnings: string[] }; gpus: { uuid: string }[] }>(
      await api("/api/admin/gpus/refresh", { method: "POST", token: adminToken }),
    );
    expect(body.inventory.error).toBeNull();
    expect(body.inventory.warnings).toEqual([]);
    expect(Date.now() - Date.parse(body.inventory.refreshedAt)).toBeLessThan(60_000);
    expect(body.gpus.map((g) => g.uuid)).toEqual(uuids);
    const [latest] = (await expectJson<AuditPage>(await api("/api/admin/audit?pageSize=1", { token: adminToken }))).events;
    expect(latest).toMatchObject({ action: "gpu.refresh", actorId: adminId, actorEmail: ADMIN.email });
    await expectApiError(await api("/api/admin/gpus/refresh", { method: "POST", token: adminToken, json: { path: "/bin/sh" } }), 422, "validation_failed");
  });
});

describe("workspace stop", () => {
  it("stopping a workspace whose main process ignores SIGTERM answers 200 and releases its GPU", async () => {
    // The busybox image's own CMD is `sleep infinity` as PID 1, which ignores SIGTERM: `docker stop` waits out its
    // grace period and then kills it. The stop must still succeed and hand the GPU back.
    const plain = await expectJson<{ id: string }>(
      await api("/api/admin/images", { method: "POST", token: adminToken, json: { name: "busybox-own-cmd", ref: BUSYBOX_IMAGE } }),
      201,
    );
    const u = await newUser();
    const ws = await expectJson<Workspace>(
      await api("/api/workspaces", { method: "POST", token: u.token, json: { name: "stubborn", imageId: plain.id, gpus: 1, memoryGb: 0.5, cpus: 0.5 } }),
      201,
    );
    expect(ws.status, ws.statusMessage).toBe("running");
    try {
      const res = await api(`/api/workspaces/${ws.id}/stop`, { method: "POST", token: u.token });
      const body = await res.text();
      expect(res.status, body).toBe(200);
      expect(JSON.parse(body)).toMatchObject({ status: "stopped", gpuDevices: [] });
      const gpus = await expectJson<{ workspaceId: string | null }[]>(await api("/api/admin/gpus", { token: adminToken }));
      expect(gpus.filter((g) => g.workspaceId !== null)).toEqual([]);
      expect((await inspect(ws.containerId!)).State.Running).toBe(false);
    } finally {
      await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: u.token });
    }
  });
});

describe("audit", () => {
  it("GET /api/admin/audit pages newest first", async () => {
    const first = await expectJson<AuditPage>(await api("/api/admin/audit?page=1&pageSize=2", { token: adminToken }));
    const second = await expectJson<AuditPage>(await api("/api/admin/audit?page=2&pageSize=2", { token: adminToken }));
    expect(first).toMatchObject({ page: 1, pageSize: 2 });
    expect(second).toMatchObject({ page: 2, pageSize: 2, total: first.total });
    expect(first.total).toBeGreaterThan(4);
    expect(first.events).toHaveLength(2);
    expect(second.events).toHaveLength(2);
    const ids = [...first.events, ...second.events].map((e) => e.id);
    expect(new Set(ids).size).toBe(4);
    const times = [...first.events, ...second.events].map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const beyond = await expectJson<AuditPage>(await api(`/api/admin/audit?page=${first.total + 1}&pageSize=2`, { token: adminToken }));
    expect(beyond.events).toEqual([]);
    const defaults = await expectJson<AuditPage>(await api("/api/admin/audit", { token: adminToken }));
    expect(defaults).toMatchObject({ page: 1, pageSize: expect.any(Number) });
    for (const bad of ["page=0", "page=-1", "page=x", "pageSize=0", "pageSize=201", "pageSize=1.5", "page=1e309", "sort=at"]) {
      await expectApiError(await api(`/api/admin/audit?${bad}`, { token: adminToken }), 422, "validation_failed");
    }
  });

  it("GET /api/admin/audit?cursor= walks the same events as the page numbers, and refuses a cursor it did not give out", async () => {
    const byPages = (await allAudit()).map((e) => e.id);
    const byCursor: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 1000; i++) {
      const body: AuditPage = await expectJson<AuditPage>(await api(`/api/admin/audit?pageSize=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { token: adminToken }));
      if (cursor) expect(body.page).toBeNull();
      byCursor.push(...body.events.map((e) => e.id));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    // Events recorded between the two walks come first; the rest must be the same, in the same order.
    expect(byCursor.slice(-byPages.length)).toEqual(byPages);
    expect(new Set(byCursor).size).toBe(byCursor.length);
    const first = await expectJson<AuditPage>(await api("/api/admin/audit?pageSize=2", { token: adminToken }));
    for (const bad of ["cursor=", "cursor=bm90LWEtY3Vyc29y", `cursor=${Buffer.from("yesterday|x").toString("base64url")}`, `page=2&cursor=${first.nextCursor}`]) {
      await expectApiError(await api(`/api/admin/audit?${bad}`, { token: adminToken }), 422, "validation_failed");
    }
  });

  it("records launch, stop, delete and a quota change with actor, action, before and after — and no secret", async () => {
    const u = await newUser();
    await expectJson(await api(`/api/admin/users/${u.id}/quota`, { method: "PUT", token: adminToken, json: { maxGpus: 2, maxMemoryGb: 8, maxCpus: 2, maxWorkspaces: 3 } }));
    const ws = await expectJson<Workspace>(
      await api("/api/workspaces", { method: "POST", token: u.token, json: { name: "audited", imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } }),
      201,
    );
    expect(ws.status, ws.statusMessage).toBe("running");
    const jupyterToken = envOf(await inspect(ws.containerId!)).JUPYTER_TOKEN;
    expect(jupyterToken).toMatch(/^[0-9a-f]{32,}$/);
    expect((await expectJson<Workspace>(await api(`/api/workspaces/${ws.id}/stop`, { method: "POST", token: u.token }))).status).toBe("stopped");
    expect((await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    expect(await containersOfUsers([u.id])).toEqual([]);
    await expectJson(await api(`/api/admin/users/${u.id}/quota`, { method: "PUT", token: adminToken, json: { maxGpus: 0, maxMemoryGb: 4, maxCpus: 1, maxWorkspaces: 1 } }));

    const events = await allAudit();
    const about = (action: string, targetId: string) => events.filter((e) => e.action === action && e.targetId === targetId);

    const [launched] = about("workspace.launch", ws.id);
    expect(launched).toMatchObject({ actorId: u.id, actorEmail: u.email, targetType: "workspace", before: null });
    expect(launched.after).toMatchObject({ id: ws.id, userId: u.id, name: "audited", gpus: 1, memoryGb: 0.5, cpus: 0.5, gpuUuids: ws.gpuDevices.map((g) => g.uuid) });

    const [stopped] = about("workspace.stop", ws.id);
    expect(stopped).toMatchObject({ actorId: u.id, actorEmail: u.email, targetType: "workspace", before: { status: "running" }, after: { status: "stopped" } });

    const [deleted] = about("workspace.delete", ws.id);
    expect(deleted).toMatchObject({ actorId: u.id, actorEmail: u.email, targetType: "workspace", before: { id: ws.id, name: "audited" } });

    const quotaChanges = about("quota.update", u.id);
    expect(quotaChanges).toHaveLength(2);
    // Newest first: the second PUT's before is the first PUT's after.
    expect(quotaChanges[0]).toMatchObject({
      actorId: adminId,
      actorEmail: ADMIN.email,
      targetType: "user",
      before: { maxGpus: 2, maxMemoryGb: 8, maxCpus: 2, maxWorkspaces: 3 },
      after: { maxGpus: 0, maxMemoryGb: 4, maxCpus: 1, maxWorkspaces: 1 },
    });
    expect(quotaChanges[1].after).toEqual({ maxGpus: 2, maxMemoryGb: 8, maxCpus: 2, maxWorkspaces: 3, gpuHoursBudget: null, budgetPeriod: "week" });
    for (const e of [launched, stopped, deleted, ...quotaChanges]) expect(Date.now() - Date.parse(e.at)).toBeLessThan(10 * 60_000);

    // Admin changes to users and settings are there too, by the admin.
    expect(about("user.create", u.id)[0]).toMatchObject({ actorId: adminId, after: { email: u.email, role: "user" } });
    expect(events.some((e) => e.action === "settings.update" && e.actorId === adminId && e.before && e.after)).toBe(true);
    expect(events.some((e) => e.action === "user.update" && e.actorId === adminId && e.before && e.after)).toBe(true);

    // A password reset by the admin is recorded without the password or its hash.
    const newPassword = `reset-password-${crypto.randomBytes(6).toString("hex")}`;
    await expectJson(await api(`/api/admin/users/${u.id}`, { method: "PATCH", token: adminToken, json: { password: newPassword } }));

    const text = await auditText();
    expect(text).not.toContain(jupyterToken);
    expect(text).not.toContain(newPassword);
    expect(text).not.toContain(ALICE.password);
    expect(text).not.toMatch(/\$2[aby]\$\d\d\$/);
    expect(text).not.toMatch(/"(passwordHash|jupyterToken|tokenHash)"/);
    const sqlite = new Database(dataDir.databaseFile, { readonly: true, fileMustExist: true });
    try {
      const hashes = sqlite.prepare(`SELECT passwordHash AS h FROM "User" UNION ALL SELECT tokenHash AS h FROM "ApiToken"`).all() as { h: string }[];
      expect(hashes.length).toBeGreaterThan(3);
      for (const { h } of hashes) expect(text).not.toContain(h);
    } finally {
      sqlite.close();
    }
    for (const token of [adminToken, alice.token, u.token]) expect(text).not.toContain(token);
  });
});
