import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../helpers/workspaces";
import {
  BUSYBOX_IMAGE,
  GiB,
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  SETUP_TIMEOUT_MS,
  containersOfWorkspace,
  docker,
  expectNoSecrets,
  rand,
  startSecurityEnv,
  waitFor,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// Every path that makes or starts a container — launch, start after stop, start on other GPUs, start after the
// container vanished, reset, reset onto a changed catalog image, and the same actions by an admin on a user's
// workspace — is followed by `docker inspect` of the result against the baseline of ../shared/SECURITY.md.

type Expected = { ownerId: string; memoryGb: number; cpus: number; gpuUuids: string[]; imageRef: string };
type HostConfigPlus = Docker.HostConfig & {
  DeviceRequests?: { Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null }[] | null;
  UTSMode?: string;
  UsernsMode?: string;
  CgroupnsMode?: string;
  Sysctls?: Record<string, string> | null;
  Mounts?: { Type?: string; Source?: string; Target?: string; ReadOnly?: boolean }[] | null;
};

let env: SecurityEnv;
let alice: Principal;
let bob: Principal;
let busyboxId: string;
let jupyterId: string;
let switchingId: string;
let dataPath: string;
const checked: string[] = [];

/** Gantry hands Docker a numeric uid:gid; anything else (a name, `00`, an empty user) counts as root here. */
function isRoot(user: string | undefined): boolean {
  const m = /^(\d+):(\d+)$/.exec(user ?? "");
  return !m || Number(m[1]) === 0 || Number(m[2]) === 0;
}

async function expectBaseline(pathName: string, containerId: string, exp: Expected): Promise<Docker.ContainerInspectInfo> {
  const info = await env.inspect(containerId);
  const hc = info.HostConfig as HostConfigPlus;
  const ctx = `${pathName} (container ${containerId.slice(0, 12)})`;
  const memory = Math.floor(exp.memoryGb * GiB);
  expect(hc.Memory, ctx).toBe(memory);
  expect(hc.Memory, ctx).toBeGreaterThan(0);
  expect(hc.MemorySwap, `${ctx}: swap must equal memory (no swap)`).toBe(memory);
  expect(hc.NanoCpus, ctx).toBe(Math.round(exp.cpus * 1e9));
  expect(hc.PidsLimit ?? 0, ctx).toBeGreaterThan(0);
  expect(hc.CapDrop, ctx).toEqual(["ALL"]);
  expect(hc.CapAdd ?? [], ctx).toEqual([]);
  expect((hc.SecurityOpt ?? []).some((o: string) => /^no-new-privileges(:true)?$/.test(o)), `${ctx}: ${hc.SecurityOpt}`).toBe(true);
  expect((hc.SecurityOpt ?? []).filter((o: string) => /unconfined|seccomp|apparmor|label|systempaths/i.test(o)), ctx).toEqual([]);
  expect(hc.Privileged, ctx).toBe(false);
  expect(hc.NetworkMode ?? "", ctx).not.toMatch(/^(host|container:.*)$/);
  expect(hc.PidMode ?? "", ctx).toBe("");
  expect(hc.IpcMode ?? "", ctx).not.toMatch(/^(host|container:.*|shareable)$/);
  expect(hc.UTSMode ?? "", ctx).toBe("");
  expect(hc.UsernsMode ?? "", ctx).toBe("");
  expect(hc.Devices ?? [], ctx).toEqual([]);
  expect(hc.DeviceCgroupRules ?? [], ctx).toEqual([]);
  expect(hc.Sysctls ?? {}, ctx).toEqual({});
  expect(hc.CgroupParent ?? "", ctx).toBe("");
  expect(hc.VolumesFrom ?? [], ctx).toEqual([]);
  expect(hc.Binds ?? [], ctx).toEqual([]);
  expect(hc.PortBindings ?? {}, ctx).toEqual({});
  expect(hc.PublishAllPorts ?? false, ctx).toBe(false);
  expect(hc.OomKillDisable ?? false, ctx).toBe(false);
  expect(hc.RestartPolicy?.Name ?? "no", ctx).toBe("no");

  // Only the allocated GPUs, by UUID; never a count (-1 is "all").
  const requests = hc.DeviceRequests ?? [];
  if (exp.gpuUuids.length === 0) {
    expect(requests, ctx).toEqual([]);
  } else {
    expect(requests.length, ctx).toBe(1);
    expect(requests[0].Driver, ctx).toBe("nvidia");
    expect(requests[0].Count ?? 0, ctx).toBe(0);
    expect([...(requests[0].DeviceIDs ?? [])].sort(), ctx).toEqual([...exp.gpuUuids].sort());
  }
  const envs = Object.fromEntries((info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
  if (exp.gpuUuids.length) expect(envs.NVIDIA_VISIBLE_DEVICES.split(",").sort(), ctx).toEqual([...exp.gpuUuids].sort());
  else expect(envs.NVIDIA_VISIBLE_DEVICES, ctx).toBe("void");

  // No host directory but the admin's dataPath (read-only), never the Docker socket.
  const mounts = info.Mounts.map((m) => ({ type: m.Type, source: m.Type === "bind" ? m.Source : m.Name, target: m.Destination, rw: m.RW }));
  expect(mounts.sort((a, b) => a.target.localeCompare(b.target)), ctx).toEqual([
    { type: "bind", source: dataPath, target: "/data", rw: false },
    { type: "volume", source: `gantry-home-${exp.ownerId}`, target: "/workspace", rw: true },
  ]);
  expect(JSON.stringify({ m: info.Mounts, h: hc.Mounts, b: hc.Binds, v: info.Config.Volumes }), ctx).not.toContain("docker.sock");

  expect(isRoot(info.Config.User), `${ctx}: runs as "${info.Config.User}"`).toBe(false);
  // The catalog's image, pinned by ID; the owner from the database on the labels.
  expect(info.Image, ctx).toBe((await docker.getImage(exp.imageRef).inspect()).Id);
  expect(info.Config.Labels, ctx).toMatchObject({ "gantry.managed": "true", "gantry.user": exp.ownerId });
  expect(info.State.Running, ctx).toBe(true);
  checked.push(pathName);
  return info;
}

type Ws = { id: string; containerId: string; status: string; statusMessage: string; gpuDevices: { uuid: string }[]; memoryGb: number; cpus: number; userId: string };

async function getWs(id: string): Promise<Ws> {
  const res = await env.req<Ws>(`/api/workspaces/${id}`, { token: env.admin.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** The GPUs the database holds for this workspace, as the admin's GPU list shows them. */
async function heldBy(workspaceId: string): Promise<string[]> {
  const res = await env.req<{ uuid: string; workspaceId: string | null }[]>("/api/admin/gpus", { token: env.admin.token });
  return res.body.filter((g) => g.workspaceId === workspaceId).map((g) => g.uuid);
}

async function expected(ws: Ws, imageRef: string): Promise<Expected> {
  const held = await heldBy(ws.id);
  expect([...held].sort()).toEqual(ws.gpuDevices.map((g) => g.uuid).sort());
  return { ownerId: ws.userId, memoryGb: ws.memoryGb, cpus: ws.cpus, gpuUuids: held, imageRef };
}

async function act(p: Principal | "admin", id: string, verb: "stop" | "start" | "reset"): Promise<Ws> {
  const token = p === "admin" ? env.admin.token : p.token;
  const res = await env.req<Ws>(`/api/workspaces/${id}/${verb}`, { token, json: {} });
  expect(res.status, `${verb}: ${res.text}`).toBe(200);
  return res.body;
}

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-spec-", gpus: true });
  dataPath = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-sec-datasets-"));
  fs.chmodSync(dataPath, 0o755);
  const settings = await env.req("/api/admin/settings", { method: "PUT", token: env.admin.token, json: { dataPath } });
  expect(settings.status, settings.text).toBe(200);
  busyboxId = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
  jupyterId = await env.addImage(`jupyter-${rand()}`, JUPYTER_IMAGE, JUPYTER_COMMAND);
  switchingId = await env.addImage(`switching-${rand()}`, BUSYBOX_IMAGE);
  alice = await env.createUser("alice");
  bob = await env.createUser("bob");
  const gpus = await env.req<unknown[]>("/api/admin/gpus", { token: env.admin.token });
  expect(gpus.body.length, "the stand-in nvidia-smi should report 4 GPUs").toBe(4);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.cleanup();
  if (dataPath) fs.rmSync(dataPath, { recursive: true, force: true });
}, SETUP_TIMEOUT_MS);

describe("every path that makes or starts a container meets the baseline", () => {
  let ws: Ws;

  it("launch (with a GPU)", async () => {
    const res = await env.launch(alice, { name: "spec", imageId: switchingId, gpus: 1 });
    expect(res.status, res.text).toBe(201);
    ws = res.body;
    const info = await expectBaseline("launch", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
    // And from inside: not root, no capabilities, no_new_privs, /data read-only, no Docker socket.
    const probe = await exec(info.Id, ["sh", "-c", "id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; touch /data/x 2>&1 && echo WROTE; ls /var/run/docker.sock /run/docker.sock 2>&1"]);
    const lines = probe.stdout.trim().split("\n");
    expect(lines[0]).not.toBe("0");
    expect(probe.stdout).toMatch(/CapEff:\s+0000000000000000/);
    expect(probe.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(probe.stdout).not.toContain("WROTE");
    expect(probe.stdout).not.toMatch(/^\/(var\/)?run\/docker\.sock$/m);
  });

  it("start after stop (the same container, same GPU)", async () => {
    await act(alice, ws.id, "stop");
    ws = await act(alice, ws.id, "start");
    await expectBaseline("start after stop", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
  });

  it("start on other GPUs (its GPU was taken meanwhile: the container is made anew)", async () => {
    const before = await heldBy(ws.id);
    await act(alice, ws.id, "stop");
    const taker = await env.launch(bob, { name: "taker", imageId: busyboxId, gpus: 1 });
    expect(taker.status, taker.text).toBe(201);
    expect(await heldBy(taker.body.id)).toEqual(before);
    const oldContainer = ws.containerId;
    ws = await act(alice, ws.id, "start");
    expect(ws.containerId).not.toBe(oldContainer);
    expect(await heldBy(ws.id)).not.toEqual(before);
    await expectBaseline("start on other GPUs", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
    expect((await env.req(`/api/workspaces/${taker.body.id}`, { method: "DELETE", token: bob.token })).status).toBe(204);
  });

  it("start after the container was removed outside Gantry", async () => {
    await docker.getContainer(ws.containerId).remove({ force: true });
    await waitFor("status error after docker rm -f", () => getWs(ws.id), (w) => w.status === "error", 20_000);
    ws = await act(alice, ws.id, "start");
    await expectBaseline("start after removal", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
  });

  it("reset", async () => {
    const old = ws.containerId;
    ws = await act(alice, ws.id, "reset");
    expect(ws.containerId).not.toBe(old);
    await expectBaseline("reset", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
  });

  it("an admin resets the user's workspace (still the user's container, volume and quota)", async () => {
    ws = await act("admin", ws.id, "reset");
    await expectBaseline("admin reset", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
    expect(ws.userId).toBe(alice.id);
  });

  it("an admin stops and starts the user's workspace", async () => {
    await act("admin", ws.id, "stop");
    ws = await act("admin", ws.id, "start");
    await expectBaseline("admin start", ws.containerId, await expected(ws, BUSYBOX_IMAGE));
  });

  it("reset onto the catalog's changed image (the admin edited the image's ref and command)", async () => {
    const patch = await env.req(`/api/admin/images/${switchingId}`, { method: "PATCH", token: env.admin.token, json: { ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND } });
    expect(patch.status, patch.text).toBe(200);
    ws = await act(alice, ws.id, "reset");
    expect(ws.statusMessage).toMatch(/new image/i);
    const info = await expectBaseline("reset onto a new image", ws.containerId, await expected(ws, JUPYTER_IMAGE));
    expect(info.Config.User).toBe("1000:1000");
  });

  it("launch of an image with its own command and user, without GPUs", async () => {
    const res = await env.launch(alice, { name: "spec-jupyter", imageId: jupyterId, gpus: 0, memoryGb: 1 });
    expect(res.status, res.text).toBe(201);
    await expectBaseline("launch without GPUs", res.body.containerId, await expected(res.body, JUPYTER_IMAGE));
    expect((await env.req(`/api/workspaces/${res.body.id}`, { method: "DELETE", token: alice.token })).status).toBe(204);
  });

  it("an admin's own workspace", async () => {
    const res = await env.launch(env.admin, { name: "admin-own", imageId: busyboxId, gpus: 1 });
    expect(res.status, res.text).toBe(201);
    await expectBaseline("admin launch", res.body.containerId, await expected(res.body, BUSYBOX_IMAGE));
  });

  it("each workspace has exactly one container, and every path above was checked", async () => {
    expect((await containersOfWorkspace(ws.id)).map((c) => c.Id)).toEqual([ws.containerId]);
    expect(checked).toEqual([
      "launch",
      "start after stop",
      "start on other GPUs",
      "start after removal",
      "reset",
      "admin reset",
      "admin start",
      "reset onto a new image",
      "launch without GPUs",
      "admin launch",
    ]);
  });
});

describe("the whole file", () => {
  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});
