import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUSYBOX_IMAGE,
  SETUP_TIMEOUT_MS,
  docker,
  expectErrorShape,
  expectNoSecrets,
  openStream,
  rand,
  sleep,
  startSecurityEnv,
  waitFor,
  type OpenStream,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// Containers Gantry did not create: one with no labels, and others with Gantry's labels put on by hand — naming a
// real workspace of another user, a workspace that does not exist, and even exactly the labels Gantry itself would
// put on the victim's container. Ownership comes from the database: none of them is ever listed, counted, acted on
// or removed, through any action or by reconciliation.

let env: SecurityEnv;
let alice: Principal;
let mallory: Principal;
let busyboxId: string;
let ws: { id: string; containerId: string };
let gpuUuids: string[];
const marker = `FOREIGN-${rand(6)}`;
const foreign: Record<"unlabelled" | "claimsVictimsWorkspace" | "orphanLabel" | "exactLabels", { id: string; name: string; startedAt: string }> = {} as never;
let malloryEvents: OpenStream;

async function makeForeign(kind: keyof typeof foreign, labels: Record<string, string>, gpu?: string): Promise<void> {
  const name = `gantry-sec-foreign-${kind}-${rand()}`;
  const container = await docker.createContainer({
    name,
    Image: BUSYBOX_IMAGE,
    Cmd: ["sh", "-c", `echo ${marker}; exec sleep 100000`],
    Labels: labels,
    HostConfig: {
      NetworkMode: "none",
      Memory: 64 * 1024 * 1024,
      ...(gpu ? { DeviceRequests: [{ Driver: "nvidia", DeviceIDs: [gpu], Capabilities: [["gpu"]] }] } : {}),
    } as Docker.HostConfig,
  });
  env.foreignContainers.push(container.id);
  await container.start();
  const info = await container.inspect();
  foreign[kind] = { id: container.id, name, startedAt: info.State.StartedAt };
}

/** Every foreign container exists, runs, and was never stopped, restarted or replaced. */
async function expectForeignUntouched(): Promise<void> {
  for (const [kind, f] of Object.entries(foreign)) {
    const info = await docker.getContainer(f.id).inspect().catch(() => null);
    expect(info, `${kind} container was removed`).not.toBeNull();
    expect({ kind, running: info!.State.Running, startedAt: info!.State.StartedAt, restarts: info!.RestartCount }).toEqual({
      kind,
      running: true,
      startedAt: f.startedAt,
      restarts: 0,
    });
  }
}

async function getWs(): Promise<{ status: string; containerId: string | null; statusMessage: string }> {
  const res = await env.req(`/api/workspaces/${ws.id}`, { token: alice.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

async function act(verb: "stop" | "start" | "reset"): Promise<{ status: string; containerId: string }> {
  const res = await env.req(`/api/workspaces/${ws.id}/${verb}`, { token: alice.token, json: {} });
  expect(res.status, `${verb}: ${res.text}`).toBe(200);
  return res.body;
}

function foreignIds(): string[] {
  return Object.values(foreign).map((f) => f.id);
}

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-foreign-", gpus: true });
  busyboxId = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
  alice = await env.createUser("alice");
  mallory = await env.createUser("mallory");
  const gpus = await env.req<{ uuid: string; index: number }[]>("/api/admin/gpus", { token: env.admin.token });
  gpuUuids = gpus.body.sort((a, b) => a.index - b.index).map((g) => g.uuid);
  expect(gpuUuids.length).toBe(4);
  malloryEvents = await openStream(env, "/api/events", { token: mallory.token });

  const launched = await env.launch(alice, { name: "victim", imageId: busyboxId, gpus: 1 });
  expect(launched.status, launched.text).toBe(201);
  ws = { id: launched.body.id, containerId: launched.body.containerId };

  await makeForeign("unlabelled", {});
  // Claims the victim's workspace for the attacker, and holds the GPU Gantry gave the victim.
  await makeForeign("claimsVictimsWorkspace", { "gantry.managed": "true", "gantry.workspace": ws.id, "gantry.user": mallory.id }, gpuUuids[1]);
  await makeForeign("orphanLabel", { "gantry.managed": "true", "gantry.workspace": `ws${rand(10)}`, "gantry.user": mallory.id });
  await makeForeign("exactLabels", { "gantry.managed": "true", "gantry.workspace": ws.id, "gantry.user": alice.id });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  malloryEvents?.close();
  await env?.cleanup();
}, SETUP_TIMEOUT_MS);

describe("containers Gantry did not create", () => {
  it("are never listed: not to the user they name, not to the victim, not to an admin", async () => {
    expect((await env.req("/api/workspaces", { token: mallory.token })).body).toEqual([]);
    const mine = await env.req<{ id: string; containerId: string }[]>("/api/workspaces", { token: alice.token });
    expect(mine.body.map((w) => [w.id, w.containerId])).toEqual([[ws.id, ws.containerId]]);
    const all = await env.req<{ id: string; containerId: string }[]>("/api/workspaces?all=1", { token: env.admin.token });
    expect(all.body.map((w) => w.containerId)).toEqual([ws.containerId]);
  });

  it("are never counted: no quota use for the user they name, no GPU held", async () => {
    const me = await env.req("/api/me", { token: mallory.token });
    expect(me.body.usage).toEqual({ gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 });
    const users = await env.req<{ id: string; usage: unknown }[]>("/api/admin/users", { token: env.admin.token });
    expect(users.body.find((u) => u.id === mallory.id)!.usage).toEqual({ gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 });
    const quota = await env.req(`/api/admin/users/${mallory.id}/quota`, { token: env.admin.token });
    expect(quota.body.usage.workspaces).toBe(0);
    const aliceMe = await env.req("/api/me", { token: alice.token });
    expect(aliceMe.body.usage).toEqual({ gpus: 1, memoryGb: 0.5, cpus: 0.5, workspaces: 1 });
    // The GPU the hand-made container asked Docker for is free as far as Gantry is concerned.
    const gpus = await env.req<{ uuid: string; workspaceId: string | null }[]>("/api/admin/gpus", { token: env.admin.token });
    expect(gpus.body.filter((g) => g.workspaceId).map((g) => g.workspaceId)).toEqual([ws.id]);
    expect(gpus.body.find((g) => g.uuid === gpuUuids[1])!.workspaceId).toBeNull();
  });

  it("give the user they name no power over the workspace they name (404 on every action)", async () => {
    for (const [method, path] of [
      ["GET", ""],
      ["GET", "/logs"],
      ["POST", "/stop"],
      ["POST", "/start"],
      ["POST", "/reset"],
      ["DELETE", ""],
    ] as const) {
      const res = await env.req(`/api/workspaces/${ws.id}${path}`, { method, token: mallory.token, json: method === "POST" ? {} : undefined });
      expectErrorShape(res, 404, "not_found");
    }
    const open = await env.req(`/open/${ws.id}`, { token: mallory.token });
    expect(open.status).toBe(404);
    await expectForeignUntouched();
  });

  it("the victim's logs come from her own container only", async () => {
    const logs = await env.req<{ lines: string[] }>(`/api/workspaces/${ws.id}/logs`, { token: alice.token });
    expect(logs.status).toBe(200);
    expect(logs.text).not.toContain(marker);
  });

  it("stop, start and reset act on Gantry's own container only", async () => {
    const stopped = await act("stop");
    expect(stopped.status).toBe("stopped");
    expect((await env.inspect(ws.containerId)).State.Running).toBe(false);
    await expectForeignUntouched();

    const started = await act("start");
    expect(started.containerId).toBe(ws.containerId);
    expect((await env.inspect(ws.containerId)).State.Running).toBe(true);
    await expectForeignUntouched();

    const reset = await act("reset");
    expect(reset.status).toBe("running");
    expect(foreignIds()).not.toContain(reset.containerId);
    expect(reset.containerId).not.toBe(ws.containerId);
    ws.containerId = reset.containerId;
    await expectForeignUntouched();
  });

  it("their Docker events never change the workspace they name: a foreign start does not make a stopped workspace 'running'", async () => {
    await act("stop");
    for (const kind of ["claimsVictimsWorkspace", "exactLabels"] as const) {
      const c = docker.getContainer(foreign[kind].id);
      await c.kill();
      await c.start();
      foreign[kind].startedAt = (await c.inspect()).State.StartedAt;
    }
    await sleep(2000);
    const seen = await getWs();
    expect({ status: seen.status, containerId: seen.containerId }).toEqual({ status: "stopped", containerId: ws.containerId });
    await expectForeignUntouched();
  });

  it("when Gantry's container vanished, start makes a new one instead of adopting a hand-labelled one", async () => {
    await docker.getContainer(ws.containerId).remove({ force: true });
    await sleep(1000);
    const started = await act("start");
    expect(started.status).toBe("running");
    expect(foreignIds()).not.toContain(started.containerId);
    expect(started.containerId).not.toBe(ws.containerId);
    ws.containerId = started.containerId;
    const info = await env.inspect(ws.containerId);
    expect(info.Name).not.toContain("gantry-sec-foreign");
    await expectForeignUntouched();
  });

  it("deleting the workspace, and deleting the user they name, removes none of them", async () => {
    const del = await env.req(`/api/workspaces/${ws.id}`, { method: "DELETE", token: alice.token });
    expect(del.status, del.text).toBe(204);
    await waitFor("Gantry's container to be gone", () => docker.getContainer(ws.containerId).inspect().then(() => false, () => true), (gone) => gone, 10_000);
    await expectForeignUntouched();
    const gone = await env.req(`/api/admin/users/${mallory.id}?purge=1`, { method: "DELETE", token: env.admin.token });
    expect(gone.status, gone.text).toBe(204);
    await expectForeignUntouched();
  });

  it("a full reconciliation pass (every 30 s) leaves them running and unlisted", async () => {
    await sleep(32_000);
    await expectForeignUntouched();
    const all = await env.req<{ containerId: string }[]>("/api/workspaces?all=1", { token: env.admin.token });
    expect(all.body).toEqual([]);
  });

  it("no answer ever named them, and the attacker's event stream never carried the victim's workspace", async () => {
    for (const f of Object.values(foreign)) {
      expect(env.transcript.containing(f.id.slice(0, 12))).toEqual([]);
      expect(env.transcript.containing(f.name)).toEqual([]);
    }
    expect(env.transcript.containing(marker)).toEqual([]);
    const text = malloryEvents.text();
    expect(text).not.toContain(ws.id);
    expect(text).not.toContain(alice.id);
  });
});

describe("the whole file", () => {
  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});
