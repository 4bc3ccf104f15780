import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenByLogin, QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { lifecycleViolations, waitSettled } from "../helpers/invariants";
import { BUSYBOX_IMAGE, SETUP_TIMEOUT_MS, startGantry, unique, type GantryEnv, type Seeded } from "../helpers/workspaces";

// The lifecycle's invariants under races on the real engine: pairs of actions fired at one workspace with GPUs
// requested, the second after a random delay so that it lands at every moment of the first (before its claim, during
// the container's creation, after its start). After each round, once nothing is in transition, the invariants of
// tests/helpers/invariants.ts must hold, and every answer must be a success, a 409 with a sentence, or a 404.

const ROUNDS_PER_PAIR = 8;
const ROOMY = { maxGpus: 4, maxMemoryGb: 64, maxCpus: 64, maxWorkspaces: 100 };

let g: GantryEnv;
let imageId: string;
let hangingImageId: string;
let owner: Seeded;
const extraUsers: string[] = [];
let hangingRegistry: http.Server;
const sockets = new Set<net.Socket>();
let rounds = 0;

type Answer = { what: string; status: number; code?: string; message?: string };

function rand(maxMs: number): number {
  return Math.floor(Math.random() * maxMs);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function call(what: string, path: string, token: string, method: string, json?: unknown): Promise<Answer> {
  const r = await g.api(path, { token, method, json });
  return { what, status: r.status, code: r.body?.error?.code, message: r.body?.error?.message };
}

/** A success, a 409 that says why, or a 404 (the workspace was deleted by the other request): never anything else. */
function expectAcceptable(a: Answer): void {
  const ok = [200, 201, 204].includes(a.status) || (a.status === 409 && a.code === "conflict" && (a.message ?? "").length > 10) || (a.status === 404 && a.code === "not_found");
  expect(ok, JSON.stringify(a)).toBe(true);
}

async function idOf(name: string, token: string, timeoutMs = 10_000): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const list = await g.api("/api/workspaces", { token });
    const hit = (list.body as { id: string; name: string }[]).find((w) => w.name === name);
    if (hit) return hit.id;
  }
  return null;
}

async function launchBody(name: string, gpus = 1) {
  return { name, imageId, gpus, memoryGb: 0.5, cpus: 0.5 };
}

async function launched(token: string, gpus = 1): Promise<string> {
  const r = await g.api("/api/workspaces", { token, json: await launchBody(unique("ws"), gpus) });
  expect(r.status, r.text).toBe(201);
  expect(r.body.status).toBe("running");
  return r.body.id;
}

async function check(userIds: string[]): Promise<void> {
  await waitSettled(g.dataDir.databaseFile, userIds);
  // The engine's events about what just happened reach the reconciler a moment later: let it act, then look.
  await sleep(400);
  await waitSettled(g.dataDir.databaseFile, userIds);
  expect(await lifecycleViolations(g.dataDir.databaseFile, userIds)).toEqual([]);
  rounds++;
}

async function clearWorkspaces(user: Seeded): Promise<void> {
  const list = await g.api("/api/workspaces", { token: user.token });
  for (const w of list.body as { id: string }[]) {
    const r = await g.api(`/api/workspaces/${w.id}`, { token: user.token, method: "DELETE" });
    expect([204, 404], r.text).toContain(r.status);
  }
}

async function newUser(): Promise<Seeded> {
  const email = `${unique("racer")}@gantry.test`;
  const password = "password-" + Math.random().toString(36).slice(2, 12);
  const created = await g.api("/api/admin/users", { token: g.adminToken, json: { email, name: "Racer", password } });
  expect(created.status, created.text).toBe(201);
  const id = created.body.id as string;
  extraUsers.push(id);
  const quota = await g.api(`/api/admin/users/${id}/quota`, { token: g.adminToken, method: "PUT", json: ROOMY });
  expect(quota.status, quota.text).toBe(200);
  return { email, id, token: await createTokenByLogin(g.url, email, password) };
}

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-races-" });
  imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  // A registry that answers Docker's ping and never the manifest: a pull that lasts until it is cancelled.
  hangingRegistry = http.createServer((req, res) => {
    if (req.url === "/v2/") {
      res.writeHead(200, { "Docker-Distribution-API-Version": "registry/2.0", "Content-Type": "application/json", "Content-Length": "2" });
      res.end("{}");
    }
  });
  hangingRegistry.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => hangingRegistry.listen(0, "127.0.0.1", resolve));
  const port = (hangingRegistry.address() as net.AddressInfo).port;
  hangingImageId = await g.addImage({ name: "never-arrives", ref: `127.0.0.1:${port}/never/arrives:1`, command: QUICK_STOP_COMMAND });
  owner = await g.seedUser("owner");
  const quota = await g.api(`/api/admin/users/${owner.id}/quota`, { token: g.adminToken, method: "PUT", json: ROOMY });
  expect(quota.status, quota.text).toBe(200);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  console.log(`lifecycle races: ${rounds} rounds checked`);
  for (const s of sockets) s.destroy();
  await new Promise((r) => hangingRegistry?.close(r));
  await g?.cleanup();
  const { removeUsersDockerResources } = await import("../helpers/gantry-api");
  await removeUsersDockerResources(extraUsers);
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("racing pairs of actions on one workspace with GPUs", () => {
  it(`launch + stop and launch + delete (${ROUNDS_PER_PAIR} rounds each): the GPU is never held by a container Gantry thinks is free`, async () => {
    for (const second of ["stop", "delete"] as const) {
      for (let i = 0; i < ROUNDS_PER_PAIR; i++) {
        const name = unique("race");
        const launch = call("launch", "/api/workspaces", owner.token, "POST", await launchBody(name, 1 + (i % 2)));
        const other = (async () => {
          const id = await idOf(name, owner.token);
          if (!id) return null;
          // Half the rounds aim at the first moments (before the container exists), half anywhere in the launch.
          await sleep(i % 2 === 0 ? rand(20) : rand(300));
          return second === "stop" ? call("stop", `/api/workspaces/${id}/stop`, owner.token, "POST") : call("delete", `/api/workspaces/${id}`, owner.token, "DELETE");
        })();
        const answers = [await launch, await other];
        for (const a of answers) if (a) expectAcceptable(a);
        await check([owner.id]);
        await clearWorkspaces(owner);
      }
    }
  });

  it(`start + stop, reset + stop, reset + delete, stop + delete (${ROUNDS_PER_PAIR} rounds each)`, async () => {
    const pairs: [string, string, boolean][] = [
      ["start", "stop", false],
      ["reset", "stop", true],
      ["reset", "delete", true],
      ["stop", "delete", true],
    ];
    const request = (verb: string, id: string) =>
      verb === "delete" ? call(verb, `/api/workspaces/${id}`, owner.token, "DELETE") : call(verb, `/api/workspaces/${id}/${verb}`, owner.token, "POST");
    for (const [first, second, fromRunning] of pairs) {
      for (let i = 0; i < ROUNDS_PER_PAIR; i++) {
        const id = await launched(owner.token, 1 + (i % 2));
        if (!fromRunning) {
          const stopped = await g.api(`/api/workspaces/${id}/stop`, { token: owner.token, method: "POST" });
          expect(stopped.body.status, stopped.text).toBe("stopped");
        }
        const a = request(first, id);
        const b = sleep(rand(400)).then(() => request(second, id));
        for (const answer of [await a, await b]) expectAcceptable(answer);
        await check([owner.id]);
        await clearWorkspaces(owner);
      }
    }
  });

  it("deleting the user during a launch (5 rounds): the user, the workspace and the container are all gone", async () => {
    for (let i = 0; i < 5; i++) {
      const user = await newUser();
      const launch = call("launch", "/api/workspaces", user.token, "POST", await launchBody(unique("doomed"), 1));
      await sleep(rand(500));
      const del = await call("delete user", `/api/admin/users/${user.id}`, g.adminToken, "DELETE");
      expect(del.status, JSON.stringify(del)).toBe(204);
      const answer = await launch;
      // The launch either finished first (201), or was refused or cancelled because its user was being deleted.
      expect([201, 401, 404, 409], JSON.stringify(answer)).toContain(answer.status);
      await check([user.id]);
      expect(await lifecycleViolations(g.dataDir.databaseFile, [user.id])).toEqual([]);
      const users = await g.api("/api/admin/users", { token: g.adminToken });
      expect((users.body as { id: string }[]).map((u) => u.id)).not.toContain(user.id);
    }
  });

  it("deleting the user during a pull that never ends (3 rounds): the pull is cancelled and nothing is left", async () => {
    for (let i = 0; i < 3; i++) {
      const user = await newUser();
      const r = await g.api("/api/workspaces", { token: user.token, json: { name: unique("pulling"), imageId: hangingImageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
      expect(r.status, r.text).toBe(201);
      expect(r.body.status).toBe("pulling");
      await sleep(200 + rand(800));
      const t0 = Date.now();
      const del = await call("delete user", `/api/admin/users/${user.id}`, g.adminToken, "DELETE");
      expect(del.status, JSON.stringify(del)).toBe(204);
      expect(Date.now() - t0, "the cancel is noticed within a couple of seconds").toBeLessThan(10_000);
      await check([user.id]);
      const gpus = await g.api("/api/admin/gpus", { token: g.adminToken });
      expect((gpus.body as { workspaceId: string | null }[]).filter((x) => x.workspaceId === r.body.id)).toEqual([]);
    }
  });

  it("a reset whose new image cannot be pulled changes nothing: the old container keeps running with its GPUs", async () => {
    const catalogId = await g.addImage({ name: unique("movable"), ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
    const r = await g.api("/api/workspaces", { token: owner.token, json: { name: unique("keeper"), imageId: catalogId, gpus: 2, memoryGb: 0.5, cpus: 0.5 } });
    expect(r.status, r.text).toBe(201);
    const before = r.body;
    // The admin points the catalog entry at an image no registry has: the reset must pull it, and cannot.
    const moved = await g.api(`/api/admin/images/${catalogId}`, { token: g.adminToken, method: "PATCH", json: { ref: "127.0.0.1:1/nowhere/image:1" } });
    expect(moved.status, moved.text).toBe(200);
    const reset = await g.api(`/api/workspaces/${before.id}/reset`, { token: owner.token, method: "POST" });
    expect(reset.status, reset.text).toBe(409);
    expect(reset.body.error.message).toMatch(/registry|pull/i);
    const after = (await g.api(`/api/workspaces/${before.id}`, { token: owner.token })).body;
    expect({ status: after.status, containerId: after.containerId, gpus: after.gpuDevices }).toEqual({ status: "running", containerId: before.containerId, gpus: before.gpuDevices });
    expect(after.statusMessage).toMatch(/reset failed and changed nothing/i);
    await check([owner.id]);
    await clearWorkspaces(owner);
  });
});
