import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { freePort, startServer, type GantryServer } from "../helpers/gantry-server";
import { cli, createTokenWithCli } from "../helpers/run-cli";
import { login } from "../helpers/http-session";
import {
  apiFor,
  BUSYBOX_IMAGE,
  containersOfUsers,
  createTokenByLogin,
  csvUuids,
  deviceRequests,
  envOf,
  expectApiError,
  expectJson,
  gpuUuidsOfRunningContainers,
  inspect,
  QUICK_STOP_COMMAND,
  removeUsersDockerResources,
  STAND_IN_NVIDIA_SMI,
  standInInventoryCsv,
  waitFor,
  type Api,
} from "../helpers/gantry-api";

// Quotas and exclusive GPU allocation against one real server, the real Docker engine (with the stand-in
// nvidia-container-runtime-hook, so DeviceRequests with driver "nvidia" work) and the stand-in nvidia-smi. The
// inventory comes from a CSV file this test rewrites (GANTRY_FAKE_GPU_CSV) and reloads with POST /api/admin/gpus/refresh.

const ADMIN = { email: "admin@gantry.test", password: "admin-password-123" };
const DEFAULT_CSV = standInInventoryCsv();
const DEFAULT_UUIDS = csvUuids(DEFAULT_CSV);

type Quota = { maxGpus: number; maxMemoryGb: number; maxCpus: number; maxWorkspaces: number };
type User = { id: string; email: string; password: string; token: string };
type GpuDevice = { index: number; uuid: string };
type Workspace = { id: string; name: string; status: string; statusMessage: string; userId: string; gpus: number; gpuDevices: GpuDevice[]; containerId: string | null };
type AdminGpu = { index: number; uuid: string; name: string; memoryTotalMb: number | null; workspaceId: string | null; userId: string | null; since: string | null };

const ROOMY: Quota = { maxGpus: 4, maxMemoryGb: 64, maxCpus: 64, maxWorkspaces: 100 };

let dataDir: DataDir;
let gpuDir: string;
let csvFile: string;
let server: GantryServer;
let api: Api;
let adminToken: string;
let imageId: string;
const userIds: string[] = [];
let seq = 0;

async function writeInventory(csv: string): Promise<AdminGpu[]> {
  fs.writeFileSync(csvFile, csv);
  const body = await expectJson<{ inventory: { error: string | null }; gpus: AdminGpu[] }>(
    await api("/api/admin/gpus/refresh", { method: "POST", token: adminToken }),
  );
  expect(body.inventory.error).toBeNull();
  return body.gpus;
}

async function newUser(quota: Quota = ROOMY): Promise<User> {
  const n = ++seq;
  const email = `user${n}@gantry.test`;
  const password = `password-of-user-${n}`;
  const created = await expectJson<{ id: string }>(
    await api("/api/admin/users", { method: "POST", token: adminToken, json: { email, password, role: "user" } }),
    201,
  );
  userIds.push(created.id);
  await setQuota(created.id, quota);
  return { id: created.id, email, password, token: await createTokenByLogin(server.url, email, password) };
}

async function setQuota(userId: string, quota: Quota): Promise<void> {
  await expectJson(await api(`/api/admin/users/${userId}/quota`, { method: "PUT", token: adminToken, json: quota }));
}

type LaunchBody = { name?: string; imageId?: string; gpus?: number; memoryGb?: number; cpus?: number };

function launch(user: User, body: LaunchBody = {}): Promise<Response> {
  return api("/api/workspaces", {
    method: "POST",
    token: user.token,
    json: { name: `ws-${++seq}`, imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5, ...body },
  });
}

async function launchRunning(user: User, body: LaunchBody = {}): Promise<Workspace> {
  const ws = await expectJson<Workspace>(await launch(user, body), 201);
  expect(ws.status, ws.statusMessage).toBe("running");
  return ws;
}

async function action(user: User, id: string, verb: "stop" | "start"): Promise<Response> {
  return api(`/api/workspaces/${id}/${verb}`, { method: "POST", token: user.token });
}

async function getWorkspace(user: User, id: string): Promise<Workspace> {
  return expectJson<Workspace>(await api(`/api/workspaces/${id}`, { token: user.token }));
}

async function adminGpus(): Promise<AdminGpu[]> {
  return expectJson<AdminGpu[]>(await api("/api/admin/gpus", { token: adminToken }));
}

function held(gpus: AdminGpu[]): AdminGpu[] {
  return gpus.filter((g) => g.workspaceId !== null);
}

async function deleteAllWorkspaces(): Promise<void> {
  const all = await expectJson<Workspace[]>(await api("/api/workspaces?all=1", { token: adminToken }));
  for (const ws of all) {
    const res = await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: adminToken });
    expect(res.status, `DELETE ${ws.id}: ${await res.text()}`).toBe(204);
  }
}

/** No GPU UUID appears in two running containers' DeviceRequests (among this file's users). */
async function expectNoGpuSharedByRunningContainers(): Promise<string[]> {
  const uuids = await gpuUuidsOfRunningContainers(userIds);
  expect(uuids.length, `duplicates in ${uuids.join(" ")}`).toBe(new Set(uuids).size);
  return uuids;
}

/**
 * The database and the engine agree: every running container of this file's users holds, in the admin GPU view,
 * exactly the GPUs in its DeviceRequests, and no GPU is in two running containers.
 */
async function expectAllocationsMatchRunningContainers(): Promise<void> {
  await expectNoGpuSharedByRunningContainers();
  const gpus = await adminGpus();
  for (const c of await containersOfUsers(userIds)) {
    const info = await inspect(c.Id).catch(() => null);
    if (!info?.State.Running) continue;
    const workspaceId = c.Labels["gantry.workspace"];
    const inContainer = deviceRequests(info).flatMap((r) => r.DeviceIDs ?? []).sort();
    const inDatabase = gpus.filter((g) => g.workspaceId === workspaceId).map((g) => g.uuid).sort();
    expect(inDatabase, `GPUs recorded for running workspace ${workspaceId} vs its container's DeviceRequests`).toEqual(inContainer);
  }
}

beforeAll(async () => {
  dataDir = makeDataDir("gantry-quotas-");
  gpuDir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-gpus-"));
  csvFile = path.join(gpuDir, "inventory.csv");
  fs.writeFileSync(csvFile, DEFAULT_CSV);
  server = await startServer({
    dataDir: dataDir.path,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    env: {
      GANTRY_NVIDIA_SMI: STAND_IN_NVIDIA_SMI,
      GANTRY_FAKE_GPU_CSV: csvFile,
      GANTRY_PROXY_PORT: String(await freePort()),
      // The test machine is shared and often loaded: give the engine time, so a slow answer is not a failed launch.
      GANTRY_DOCKER_TIMEOUT_MS: "30000",
    },
  });
  api = apiFor(server.url);
  adminToken = await createTokenWithCli(dataDir.path, ADMIN.email);
  // The image's own CMD (sleep infinity as PID 1) ignores SIGTERM; this command stops at once (see QUICK_STOP_COMMAND).
  const image = await expectJson<{ id: string }>(
    await api("/api/admin/images", { method: "POST", token: adminToken, json: { name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND } }),
    201,
  );
  imageId = image.id;
  // The whole host for workspaces: these tests count on GPUs and quotas, not on the machine's size.
  await expectJson(await api("/api/admin/settings", { method: "PUT", token: adminToken, json: { hostReserve: { memoryGb: 0, cpus: 0 } } }));
});

afterEach(async () => {
  if (!server) return;
  await deleteAllWorkspaces();
  expect(held(await adminGpus())).toEqual([]);
});

afterAll(async () => {
  await removeUsersDockerResources(userIds).catch(() => {});
  await server?.stop();
  dataDir?.remove();
  if (gpuDir) fs.rmSync(gpuDir, { recursive: true, force: true });
});

describe("GPU inventory from the stand-in nvidia-smi", () => {
  it("lists the stand-in's 4 GPUs, none held", async () => {
    const gpus = await adminGpus();
    expect(gpus.map((g) => g.uuid)).toEqual(DEFAULT_UUIDS);
    for (const [i, g] of gpus.entries()) {
      expect(g).toMatchObject({ index: i, name: "NVIDIA A100-SXM4-80GB", memoryTotalMb: 81920, workspaceId: null, userId: null, since: null });
    }
  });
});

describe("quotas", () => {
  it("refuses a launch over the GPU quota with 403 quota_exceeded, naming what is over and by how much", async () => {
    const u = await newUser({ ...ROOMY, maxGpus: 2 });
    await launchRunning(u, { gpus: 1 });
    const err = await expectApiError(await launch(u, { gpus: 2 }), 403, "quota_exceeded");
    expect(err.message).toContain("GPUs: 2 requested, 1 of 2 in use");
    expect(await containersOfUsers([u.id])).toHaveLength(1);
    expect(await expectJson<Workspace[]>(await api("/api/workspaces", { token: u.token }))).toHaveLength(1);
  });

  it("names memory and CPUs over quota, each with its numbers", async () => {
    const u = await newUser({ maxGpus: 0, maxMemoryGb: 1, maxCpus: 1, maxWorkspaces: 10 });
    await launchRunning(u, { memoryGb: 0.5, cpus: 0.5 });
    const err = await expectApiError(await launch(u, { gpus: 1, memoryGb: 1, cpus: 1 }), 403, "quota_exceeded");
    expect(err.message).toContain("GPUs: 1 requested, 0 of 0 in use");
    expect(err.message).toContain("Memory: 1 GB requested, 0.5 GB of 1 GB in use");
    expect(err.message).toContain("CPUs: 1 requested, 0.5 of 1 in use");
    const memOnly = await expectApiError(await launch(u, { memoryGb: 1.5, cpus: 0.5 }), 403, "quota_exceeded");
    expect(memOnly.message).toContain("Memory: 1.5 GB requested, 0.5 GB of 1 GB in use");
    expect(memOnly.message).not.toContain("CPUs");
    expect(await containersOfUsers([u.id])).toHaveLength(1);
  });

  it("counts stopped workspaces against maxWorkspaces", async () => {
    const u = await newUser({ ...ROOMY, maxWorkspaces: 1 });
    const ws = await launchRunning(u);
    expect((await expectJson<Workspace>(await action(u, ws.id, "stop"))).status).toBe("stopped");
    const err = await expectApiError(await launch(u), 403, "quota_exceeded");
    expect(err.message).toContain("Workspaces: 1 of 1 already exist");
    expect(await containersOfUsers([u.id])).toHaveLength(1);
    // Deleting the stopped one makes room again.
    expect((await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    await launchRunning(u);
  });

  it("lowering a quota leaves running workspaces running but blocks the next launch", async () => {
    const u = await newUser({ ...ROOMY, maxGpus: 1 });
    const ws = await launchRunning(u, { gpus: 1 });
    await setQuota(u.id, { ...ROOMY, maxGpus: 0 });

    const err = await expectApiError(await launch(u, { gpus: 1 }), 403, "quota_exceeded");
    expect(err.message).toContain("GPUs: 1 requested, 1 of 0 in use");
    // Give a (wrong) reconciler a moment to act, then check nothing was stopped or released.
    await new Promise((r) => setTimeout(r, 1500));
    const after = await getWorkspace(u, ws.id);
    expect(after.status).toBe("running");
    expect(after.gpuDevices).toEqual(ws.gpuDevices);
    expect((await inspect(ws.containerId!)).State.Running).toBe(true);
    const me = await expectJson<{ quota: Quota; usage: { gpus: number } }>(await api("/api/me", { token: u.token }));
    expect(me.quota.maxGpus).toBe(0);
    expect(me.usage.gpus).toBe(1);
  });

  it("re-checks the quota when a stopped workspace is started", async () => {
    const u = await newUser({ ...ROOMY, maxGpus: 1 });
    const ws = await launchRunning(u, { gpus: 1 });
    await expectJson(await action(u, ws.id, "stop"));
    await setQuota(u.id, { ...ROOMY, maxGpus: 0 });

    const err = await expectApiError(await action(u, ws.id, "start"), 403, "quota_exceeded");
    expect(err.message).toContain("GPUs: 1 requested, 0 of 0 in use");
    const after = await getWorkspace(u, ws.id);
    expect(after.status).toBe("stopped");
    expect(after.gpuDevices).toEqual([]);
    expect((await inspect(ws.containerId!)).State.Running).toBe(false);
    expect(held(await adminGpus())).toEqual([]);

    await setQuota(u.id, { ...ROOMY, maxGpus: 1 });
    const started = await expectJson<Workspace>(await action(u, ws.id, "start"));
    expect(started.status).toBe("running");
    expect(started.gpuDevices).toHaveLength(1);
  });

  it("GET /api/me reports the caller's quota and current use (running counts resources, stopped counts as a workspace)", async () => {
    const quota = { maxGpus: 3, maxMemoryGb: 8, maxCpus: 2.5, maxWorkspaces: 4 };
    const u = await newUser(quota);
    const me0 = await expectJson(await api("/api/me", { token: u.token }));
    expect(me0).toMatchObject({ id: u.id, email: u.email, role: "user", quota, usage: { gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 } });

    await launchRunning(u, { gpus: 2, memoryGb: 1.5, cpus: 1 });
    const stopped = await launchRunning(u, { gpus: 1, memoryGb: 0.5, cpus: 0.5 });
    await expectJson(await action(u, stopped.id, "stop"));
    const me = await expectJson(await api("/api/me", { token: u.token }));
    expect(me).toMatchObject({ quota, usage: { gpus: 2, memoryGb: 1.5, cpus: 1, workspaces: 2 } });
  });

  it("the home page's launch limits count the same use (from the workspaces it lists) and the GPUs nobody holds", async () => {
    const quota = { maxGpus: 3, maxMemoryGb: 8, maxCpus: 2.5, maxWorkspaces: 2 };
    const u = await newUser(quota);
    await launchRunning(u, { gpus: 2, memoryGb: 1.5, cpus: 1 });
    const stopped = await launchRunning(u, { gpus: 1, memoryGb: 0.5, cpus: 0.5 });
    await expectJson(await action(u, stopped.id, "stop"));
    const signedIn = await login(server.url, u.email, u.password);
    if (!signedIn.ok) throw new Error("cannot sign in");
    const page = await signedIn.session.fetch("/");
    expect(page.status).toBe(200);
    const html = (await page.text()).replaceAll("<!-- -->", "");
    const hint = (id: string) => new RegExp(`<li id="${id}">([^<]*)</li>`).exec(html)?.[1];
    const free = (await adminGpus()).filter((g) => g.workspaceId === null).length;
    expect(free).toBe(2);
    expect(hint("launch-gpus-hint")).toBe("GPUs: up to 1 (1 left in your quota, 2 free on this host)");
    expect(hint("launch-memory-hint")).toMatch(/^Memory: up to [\d.,]+ GB \(6\.5 GB left in your quota, [\d.,]+ GB free on this host\)$/);
    expect(hint("launch-cpus-hint")).toMatch(/^CPUs: up to [\d.,]+ \(1\.5 left in your quota, [\d.,]+ free on this host\)$/);
    // Two workspaces of two: the form says so.
    expect(html).toContain('id="launch-full"');
  });
});

describe("exclusive GPU allocation", () => {
  it("gives a gpus:2 launch two distinct GPUs through DeviceRequests, and releases and retakes them through stop, start and delete", async () => {
    const u = await newUser();
    const other = await newUser();
    const ws = await launchRunning(u, { gpus: 2 });

    // The response lists the GPUs by index and UUID, taken from the inventory, lowest indexes first.
    expect(ws.gpuDevices).toEqual([
      { index: 0, uuid: DEFAULT_UUIDS[0] },
      { index: 1, uuid: DEFAULT_UUIDS[1] },
    ]);
    const uuids = ws.gpuDevices.map((g) => g.uuid);

    // The engine was asked for exactly those GPUs, by UUID, from the nvidia driver.
    const info = await inspect(ws.containerId!);
    expect(info.State.Running).toBe(true);
    const requests = deviceRequests(info);
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ Driver: "nvidia", Capabilities: [["gpu"]] });
    expect([...requests[0].DeviceIDs!].sort()).toEqual([...uuids].sort());
    expect(requests[0].Count ?? 0).toBe(0);
    expect(envOf(info).NVIDIA_VISIBLE_DEVICES.split(",").sort()).toEqual([...uuids].sort());
    // ...and that is what the process inside sees.
    const inside = execFileSync("docker", ["exec", ws.containerId!, "env"], { encoding: "utf8" });
    expect(inside.split("\n")).toContain(`NVIDIA_VISIBLE_DEVICES=${envOf(info).NVIDIA_VISIBLE_DEVICES}`);

    // The admin view shows who holds which GPU since when.
    const gpus = await adminGpus();
    for (const g of gpus) {
      if (uuids.includes(g.uuid)) {
        expect(g).toMatchObject({ workspaceId: ws.id, userId: u.id });
        expect(Number.isNaN(Date.parse(g.since!))).toBe(false);
      } else {
        expect(g).toMatchObject({ workspaceId: null, userId: null, since: null });
      }
    }

    // Stop releases both.
    const stopped = await expectJson<Workspace>(await action(u, ws.id, "stop"));
    expect(stopped.status).toBe("stopped");
    expect(stopped.gpuDevices).toEqual([]);
    expect(held(await adminGpus())).toEqual([]);

    // Someone else takes GPU 0 meanwhile; start takes GPUs again — its old GPU 1 and the next free one — and says which.
    const theirs = await launchRunning(other, { gpus: 1 });
    expect(theirs.gpuDevices).toEqual([{ index: 0, uuid: DEFAULT_UUIDS[0] }]);
    const started = await expectJson<Workspace>(await action(u, ws.id, "start"));
    expect(started.status).toBe("running");
    expect(started.gpuDevices).toEqual([
      { index: 1, uuid: DEFAULT_UUIDS[1] },
      { index: 2, uuid: DEFAULT_UUIDS[2] },
    ]);
    const restarted = await inspect(started.containerId!);
    expect(restarted.State.Running).toBe(true);
    expect([...deviceRequests(restarted)[0].DeviceIDs!].sort()).toEqual([DEFAULT_UUIDS[1], DEFAULT_UUIDS[2]].sort());
    expect(envOf(restarted).NVIDIA_VISIBLE_DEVICES.split(",").sort()).toEqual([DEFAULT_UUIDS[1], DEFAULT_UUIDS[2]].sort());
    // The container with the old GPUs is gone, not left lying around.
    expect(await containersOfUsers([u.id])).toHaveLength(1);
    expect(await expectNoGpuSharedByRunningContainers()).toHaveLength(3);
    const holders = Object.fromEntries(held(await adminGpus()).map((g) => [g.index, g.workspaceId]));
    expect(holders).toEqual({ 0: theirs.id, 1: ws.id, 2: ws.id });

    // Delete releases.
    expect((await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
    expect(held(await adminGpus()).map((g) => g.workspaceId)).toEqual([theirs.id]);
    expect(await containersOfUsers([u.id])).toHaveLength(0);
  });

  it("a workspace without GPUs gets no device request and NVIDIA_VISIBLE_DEVICES=void", async () => {
    const u = await newUser();
    const ws = await launchRunning(u, { gpus: 0 });
    expect(ws.gpuDevices).toEqual([]);
    const info = await inspect(ws.containerId!);
    expect(deviceRequests(info)).toEqual([]);
    expect(envOf(info).NVIDIA_VISIBLE_DEVICES).toBe("void");
    expect(held(await adminGpus())).toEqual([]);
  });

  it("releases the GPUs within seconds when the container dies outside Gantry (docker kill)", async () => {
    const u = await newUser();
    const ws = await launchRunning(u, { gpus: 1 });
    const uuid = ws.gpuDevices[0].uuid;
    expect(held(await adminGpus()).map((g) => g.uuid)).toEqual([uuid]);

    execFileSync("docker", ["kill", ws.containerId!]);
    const started = Date.now();
    await waitFor(async () => held(await adminGpus()).length === 0, 10_000, "GPU released after docker kill");
    expect(Date.now() - started).toBeLessThan(10_000);
    const after = await getWorkspace(u, ws.id);
    expect(after.status).toBe("error");
    expect(after.statusMessage).toContain("137");
    expect(after.gpuDevices).toEqual([]);
    const me = await expectJson<{ usage: { gpus: number } }>(await api("/api/me", { token: u.token }));
    expect(me.usage.gpus).toBe(0);

    // The freed GPU can be handed out again.
    const next = await launchRunning(await newUser(), { gpus: 1 });
    expect(next.gpuDevices.map((g) => g.uuid)).toEqual([uuid]);
  });

  it("a stopped workspace's container started outside Gantry never shares its GPU with another workspace", async () => {
    const u = await newUser();
    const other = await newUser();
    const ws = await launchRunning(u, { gpus: 1 });
    expect(ws.gpuDevices).toEqual([{ index: 0, uuid: DEFAULT_UUIDS[0] }]);
    await expectJson(await action(u, ws.id, "stop"));
    expect(held(await adminGpus())).toEqual([]);

    // Someone with Docker access starts the stopped container by hand (or the engine brings it back).
    execFileSync("docker", ["start", ws.containerId!]);
    // Gantry either adopts it as running (and must then hold its GPU again) or stops it; wait until it has decided.
    await waitFor(
      async () => (await getWorkspace(u, ws.id)).status === "running" || !(await inspect(ws.containerId!)).State.Running,
      15_000,
      "reconciliation of the hand-started container",
    );
    await new Promise((r) => setTimeout(r, 1000));
    await expectAllocationsMatchRunningContainers();

    const theirs = await launchRunning(other, { gpus: 1 });
    await expectNoGpuSharedByRunningContainers();
    await expectAllocationsMatchRunningContainers();
    if ((await inspect(ws.containerId!)).State.Running) expect(theirs.gpuDevices[0].uuid).not.toBe(DEFAULT_UUIDS[0]);
  });

  it("answers 409 no_gpu_available with how many are free, and creates nothing", async () => {
    const u = await newUser();
    const other = await newUser();
    await launchRunning(u, { gpus: 3 });
    const err = await expectApiError(await launch(other, { gpus: 2 }), 409, "no_gpu_available");
    expect(err.message).toMatch(/2 requested, 1 free/);
    expect(await containersOfUsers([other.id])).toHaveLength(0);
    expect(await expectJson<Workspace[]>(await api("/api/workspaces", { token: other.token }))).toEqual([]);
    // One is still free, and can be had.
    await launchRunning(other, { gpus: 1 });
    await expectApiError(await launch(other, { gpus: 1 }), 409, "no_gpu_available");
  });

  it("keeps a GPU that vanished from nvidia-smi while a workspace holds it, and drops it once released", async () => {
    const u = await newUser();
    const ws = await launchRunning(u, { gpus: 1 });
    expect(ws.gpuDevices[0].uuid).toBe(DEFAULT_UUIDS[0]);
    const withoutFirst = DEFAULT_CSV.split("\n").filter((l) => l.trim() && !l.includes(DEFAULT_UUIDS[0])).join("\n") + "\n";
    const extra = "4, GPU-00000000-1111-2222-3333-444444444444, NVIDIA A100-SXM4-80GB, 81920, 550.54.15\n";
    try {
      const gpus = await writeInventory(withoutFirst + extra);
      expect(gpus.map((g) => g.uuid).sort()).toEqual([...DEFAULT_UUIDS, "GPU-00000000-1111-2222-3333-444444444444"].sort());
      expect(gpus.find((g) => g.uuid === DEFAULT_UUIDS[0])).toMatchObject({ workspaceId: ws.id });
      expect((await api(`/api/workspaces/${ws.id}`, { method: "DELETE", token: u.token })).status).toBe(204);
      const after = await writeInventory(withoutFirst + extra);
      expect(after.map((g) => g.uuid)).not.toContain(DEFAULT_UUIDS[0]);
    } finally {
      await deleteAllWorkspaces();
      expect((await writeInventory(DEFAULT_CSV)).map((g) => g.uuid)).toEqual(DEFAULT_UUIDS);
    }
  });
});

describe("races", () => {
  it.each([
    ["GPU-bound (maxGpus 1, gpus:1 each)", { maxGpus: 1, maxMemoryGb: 64, maxCpus: 64, maxWorkspaces: 100 }, { gpus: 1, memoryGb: 0.5 }],
    ["memory-bound (maxMemoryGb 1, 1 GB each)", { maxGpus: 0, maxMemoryGb: 1, maxCpus: 64, maxWorkspaces: 100 }, { gpus: 0, memoryGb: 1 }],
  ])("20 concurrent launches from one user with room for one: %s → exactly one container", async (_name, quota, body) => {
    const u = await newUser(quota);
    const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => launch(u, { ...body, cpus: 0.5, name: `race-${i}` })));
    const results = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.json() })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201), statuses.join(",")).toHaveLength(1);
    for (const r of results.filter((x) => x.status !== 201)) {
      expect([403, 409], JSON.stringify(r.body)).toContain(r.status);
      expect(["quota_exceeded", "no_gpu_available"]).toContain(r.body.error.code);
    }
    const winner = results.find((r) => r.status === 201)!.body as Workspace;
    const containers = await containersOfUsers([u.id]);
    expect(containers.map((c) => c.Labels["gantry.workspace"])).toEqual([winner.id]);
    expect(await expectJson<Workspace[]>(await api("/api/workspaces", { token: u.token }))).toHaveLength(1);
    expect(winner.status, winner.statusMessage).toBe("running");
    expect(held(await adminGpus())).toHaveLength(body.gpus);
    await expectAllocationsMatchRunningContainers();
  });

  it("two users racing for the last free GPU: one 201, one 409 no_gpu_available, never the same GPU twice", async () => {
    const [a, b] = [await newUser(), await newUser()];
    const gpus = await writeInventory(DEFAULT_CSV.split("\n")[0] + "\n");
    expect(gpus.map((g) => g.uuid)).toEqual([DEFAULT_UUIDS[0]]);
    try {
      for (let round = 0; round < 3; round++) {
        const responses = await Promise.all([launch(a, { gpus: 1, name: `last-${round}` }), launch(b, { gpus: 1, name: `last-${round}` })]);
        const bodies = await Promise.all(responses.map((r) => r.json()));
        const statuses = responses.map((r) => r.status);
        expect([...statuses].sort(), JSON.stringify(bodies)).toEqual([201, 409]);
        const winner = bodies[statuses.indexOf(201)] as Workspace;
        const loser = bodies[statuses.indexOf(409)] as { error: { code: string; message: string } };
        expect(winner.status).toBe("running");
        expect(winner.gpuDevices).toEqual([{ index: 0, uuid: DEFAULT_UUIDS[0] }]);
        expect(loser.error.code).toBe("no_gpu_available");
        expect(loser.error.message).toMatch(/0 free|took it/);
        expect(await expectNoGpuSharedByRunningContainers()).toEqual([DEFAULT_UUIDS[0]]);
        expect(await containersOfUsers([a.id, b.id])).toHaveLength(1);
        await expectAllocationsMatchRunningContainers();
        expect((await api(`/api/workspaces/${winner.id}`, { method: "DELETE", token: adminToken })).status).toBe(204);
      }
    } finally {
      await deleteAllWorkspaces();
      await writeInventory(DEFAULT_CSV);
    }
  });

  it("eight concurrent gpus:1 launches from four users (one GPU each by quota) on four GPUs: four win, all GPUs distinct", async () => {
    const users = [await newUser({ ...ROOMY, maxGpus: 1 }), await newUser({ ...ROOMY, maxGpus: 1 }), await newUser({ ...ROOMY, maxGpus: 1 }), await newUser({ ...ROOMY, maxGpus: 1 })];
    const responses = await Promise.all(users.flatMap((u) => [launch(u, { gpus: 1, name: "a" }), launch(u, { gpus: 1, name: "b" })]));
    const results = await Promise.all(responses.map(async (r) => ({ status: r.status, body: await r.json() })));
    const winners = results.filter((r) => r.status === 201).map((r) => r.body as Workspace);
    expect(winners, JSON.stringify(results.filter((r) => r.status !== 201))).toHaveLength(4);
    expect(new Set(winners.map((w) => w.userId)).size).toBe(4);
    for (const r of results.filter((x) => x.status !== 201)) expect(r.body.error.code).toBe("quota_exceeded");
    for (const w of winners) expect(w.status, w.statusMessage).toBe("running");
    const handedOut = winners.flatMap((w) => w.gpuDevices.map((g) => g.uuid));
    expect([...handedOut].sort()).toEqual([...DEFAULT_UUIDS].sort());
    expect((await expectNoGpuSharedByRunningContainers()).sort()).toEqual([...DEFAULT_UUIDS].sort());
    await expectAllocationsMatchRunningContainers();
  });
});

describe("CUDA compatibility preflight", () => {
  const OLD_DRIVER_CSV = [
    "0, GPU-01d0d410-0000-4000-8000-000000000000, Tesla V100-SXM2-32GB, 32768, 470.57.02",
    "1, GPU-01d0d410-0000-4000-8000-000000000001, Tesla V100-SXM2-32GB, 32768, 470.57.02",
    "",
  ].join("\n");
  let cudaImageId: string;

  beforeAll(async () => {
    await writeInventory(OLD_DRIVER_CSV);
    const added = await cli(dataDir.path, ["image", "add", "--name", "cuda-12-4", "--ref", BUSYBOX_IMAGE, "--cuda", "12.4", "--command", QUICK_STOP_COMMAND]);
    cudaImageId = /\((c[a-z0-9]+)\)/.exec(added)![1];
  });

  afterAll(async () => {
    await deleteAllWorkspaces();
    await writeInventory(DEFAULT_CSV);
  });

  it("refuses a GPU launch of a CUDA 12.4 image on driver 470.57.02 with 409 cuda_incompatible, before creating anything", async () => {
    const u = await newUser();
    const err = await expectApiError(await launch(u, { imageId: cudaImageId, gpus: 1 }), 409, "cuda_incompatible");
    expect(err.message).toContain("12.4");
    expect(err.message).toContain("470.57.02");
    expect(err.message).toContain("550.54.14");
    expect(await containersOfUsers([u.id])).toHaveLength(0);
    expect(await expectJson<Workspace[]>(await api("/api/workspaces", { token: u.token }))).toEqual([]);
    expect(held(await adminGpus())).toEqual([]);
  });

  it("launches the same image without GPUs", async () => {
    const u = await newUser();
    const ws = await launchRunning(u, { imageId: cudaImageId, gpus: 0 });
    expect(deviceRequests(await inspect(ws.containerId!))).toEqual([]);
  });

  it("launches an image that declares no CUDA version on GPUs with the old driver", async () => {
    const u = await newUser();
    const ws = await launchRunning(u, { gpus: 1 });
    expect(ws.gpuDevices).toEqual([{ index: 0, uuid: "GPU-01d0d410-0000-4000-8000-000000000000" }]);
  });

  it("reads the CUDA version from the image's own NVIDIA_REQUIRE_CUDA when the catalog gives none", async () => {
    const tag = `gantry-test/cuda-env:${process.pid}-${Date.now()}`;
    execFileSync("docker", ["build", "-q", "-t", tag, "-"], {
      input: `FROM ${BUSYBOX_IMAGE}\nENV NVIDIA_REQUIRE_CUDA="cuda>=12.2 brand=tesla,driver>=470,driver<471" CUDA_VERSION=12.2.2\n`,
      encoding: "utf8",
    });
    try {
      const added = await cli(dataDir.path, ["image", "add", "--name", "cuda-env-12-2", "--ref", tag, "--command", QUICK_STOP_COMMAND]);
      const envImageId = /\((c[a-z0-9]+)\)/.exec(added)![1];
      const u = await newUser();
      const err = await expectApiError(await launch(u, { imageId: envImageId, gpus: 1 }), 409, "cuda_incompatible");
      expect(err.message).toContain("12.2");
      expect(err.message).toContain("470.57.02");
      expect(err.message).toContain("535.54.03");
      expect(await containersOfUsers([u.id])).toHaveLength(0);
    } finally {
      execFileSync("docker", ["image", "rm", "-f", tag], { stdio: "ignore" });
    }
  });
});
