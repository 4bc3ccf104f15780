import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type Docker from "dockerode";
import {
  BUSYBOX_IMAGE,
  GiB,
  JUPYTER_IMAGE,
  containersOf,
  docker,
  envValue,
  exec,
  inspect,
  isErrorBody,
  openEvents,
  startGantry,
  unique,
  volumeExists,
  waitFor,
  type EventStream,
  type GantryEnv,
  type Seeded,
  JUPYTER_COMMAND,
  SETUP_TIMEOUT_MS,
} from "../helpers/workspaces";

// The workspace lifecycle through the real API on a real Docker engine: one server, two users, the real Jupyter
// test image. The steps of "lifecycle" build on each other (one workspace, launched once).

let g: GantryEnv;
let alice: Seeded;
let bob: Seeded;
let jupyterImageId: string;
let busyboxImageId: string;

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-ws-" });
  alice = await g.seedUser("alice");
  bob = await g.seedUser("bob");
  jupyterImageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  busyboxImageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
}, SETUP_TIMEOUT_MS);

const UNICODE_NAME = "Ünïcødé 🚀 work/space;rm -rf";
const CONTAINER_NAME = /^gantry-[0-9a-f]{12}$/;

function launch(token: string, body: Record<string, unknown>) {
  return g.api("/api/workspaces", { token, json: body });
}

describe("workspace lifecycle", () => {
  let ws: any;
  let info: Docker.ContainerInspectInfo;
  let token: string;
  let aliceEvents: EventStream;
  let bobEvents: EventStream;

  afterAll(() => {
    aliceEvents?.close();
    bobEvents?.close();
  });

  it("launches: 201, status running, with a container id and no token in the response", async () => {
    const res = await launch(alice.token, { name: UNICODE_NAME, imageId: jupyterImageId, gpus: 0, memoryGb: 1, cpus: 0.5 });
    expect(res.status, res.text).toBe(201);
    ws = res.body;
    expect(ws).toMatchObject({
      id: expect.stringMatching(/^ws[0-9a-f]+$/),
      name: UNICODE_NAME,
      status: "running",
      imageId: jupyterImageId,
      gpus: 0,
      memoryGb: 1,
      cpus: 0.5,
      containerId: expect.stringMatching(/^[0-9a-f]{64}$/),
      createdAt: expect.any(String),
    });
    expect(res.text).not.toMatch(/jupyterToken|JUPYTER_TOKEN/);
    info = (await inspect(ws.containerId))!;
    expect(info).not.toBeNull();
    expect(info.State.Running).toBe(true);
    token = envValue(info, "JUPYTER_TOKEN")!;
    expect(res.text).not.toContain(token);
  });

  it("made the container exactly to the spec (docker inspect)", async () => {
    const hc = info.HostConfig as Docker.HostConfig & { DeviceRequests?: unknown[]; UTSMode?: string; UsernsMode?: string };
    expect(hc.Memory).toBe(1 * GiB);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect(hc.NanoCpus).toBe(0.5e9);
    expect(hc.PidsLimit).toBeGreaterThan(0);
    expect(hc.ShmSize).toBe(Math.min(8 * GiB, GiB / 2));
    expect(hc.CapDrop).toEqual(["ALL"]);
    expect(hc.CapAdd ?? []).toEqual([]);
    expect(hc.SecurityOpt).toContain("no-new-privileges");
    expect((hc.SecurityOpt ?? []).filter((o: string) => /unconfined|seccomp|apparmor|label/i.test(o))).toEqual([]);
    expect(hc.Privileged).toBe(false);
    expect(hc.NetworkMode).not.toBe("host");
    expect(hc.NetworkMode).not.toMatch(/^container:/);
    expect(hc.PidMode ?? "").toBe("");
    expect(hc.IpcMode).not.toBe("host");
    expect(hc.IpcMode ?? "").not.toMatch(/^container:/);
    expect(hc.UTSMode ?? "").toBe("");
    expect(hc.UsernsMode ?? "").toBe("");
    expect(hc.Devices ?? []).toEqual([]);
    expect(hc.DeviceRequests ?? []).toEqual([]);
    expect(hc.Binds ?? []).toEqual([]);
    expect(hc.PortBindings ?? {}).toEqual({});
    expect(hc.PublishAllPorts ?? false).toBe(false);
    expect(hc.RestartPolicy?.Name ?? "no").toBe("no");
    // No host port anywhere: an exposed port maps to null, never to a host binding.
    for (const [port, bindings] of Object.entries(info.NetworkSettings.Ports ?? {})) {
      expect({ port, bindings: bindings ?? [] }).toEqual({ port, bindings: [] });
    }

    expect(info.Config.User).toBe("1000:1000");
    expect(info.Config.Labels).toMatchObject({ "gantry.managed": "true", "gantry.workspace": ws.id, "gantry.user": alice.id });
    expect(info.Name.replace(/^\//, "")).toMatch(CONTAINER_NAME);
    // Nothing a neighbour could learn from a reverse lookup: not the workspace id, its name or the owner's email.
    expect(info.Name).not.toContain(ws.id);
    expect(info.Name).not.toContain(alice.email.split("@")[0]);

    const volume = info.Mounts.find((m) => m.Destination === "/workspace");
    expect(volume).toMatchObject({ Type: "volume", Name: `gantry-home-${alice.id}`, RW: true });
    expect(info.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    expect(JSON.stringify(info.Mounts)).not.toContain("docker.sock");

    expect(token).toMatch(/^\S{32,}$/);
    expect(envValue(info, "NVIDIA_VISIBLE_DEVICES")).toBe("void");
    expect(envValue(info, "CUDA_VISIBLE_DEVICES") ?? "").toBe("");

    // The image is the catalog's, pinned by its ID; the command is the catalog's with the placeholders filled in.
    const image = await docker.getImage(JUPYTER_IMAGE).inspect();
    expect(info.Image).toBe(image.Id);
    expect(info.Config.Cmd).toEqual(["python3", "-m", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", `--NotebookApp.base_url=/w/${ws.id}/`]);
  });

  it("runs as uid 1000 with no capabilities and no_new_privs, inside the container", async () => {
    const status = await exec(ws.containerId, ["cat", "/proc/1/status"]);
    expect(status.exitCode).toBe(0);
    expect(status.stdout).toMatch(/^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    expect(status.stdout).toMatch(/^CapEff:\s+0+$/m);
    expect(status.stdout).toMatch(/^CapBnd:\s+0+$/m);
    expect(status.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
  });

  it("serves Jupyter under /w/<id>/ with the token, and refuses it without", async () => {
    const probe = (withToken: boolean) =>
      exec(ws.containerId, [
        "python3",
        "-c",
        `import urllib.request,urllib.error,os,sys
url="http://127.0.0.1:8888/w/${ws.id}/api/status" + ("?token=" + os.environ["JUPYTER_TOKEN"] if ${withToken ? "True" : "False"} else "")
try:
  print(urllib.request.urlopen(url, timeout=5).status)
except urllib.error.HTTPError as e:
  print(e.code)
except Exception as e:
  print("down", e)`,
      ]);
    await waitFor("Jupyter to answer", () => probe(true), (r) => r.stdout.trim() === "200", 30_000, 500);
    expect((await probe(false)).stdout.trim()).toBe("403");
  });

  it("GET and list show it, never with the Jupyter token (nor the admin's views or the audit log)", async () => {
    const one = await g.api(`/api/workspaces/${ws.id}`, { token: alice.token });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: ws.id, name: UNICODE_NAME, status: "running", containerId: ws.containerId, statusMessage: expect.any(String) });
    const list = await g.api("/api/workspaces", { token: alice.token });
    expect(list.status).toBe(200);
    expect(list.body.map((w: any) => w.id)).toEqual([ws.id]);
    const all = await g.api("/api/workspaces?all=1", { token: g.adminToken });
    expect(all.status).toBe(200);
    expect(all.body.map((w: any) => w.id)).toContain(ws.id);
    const audit = await g.api("/api/admin/audit?pageSize=200", { token: g.adminToken });
    expect(audit.status).toBe(200);
    for (const r of [one, list, all, audit]) {
      expect(r.text).not.toContain(token);
      expect(r.text).not.toMatch(/jupyterToken/);
    }
    // Bob's list is his own.
    const bobs = await g.api("/api/workspaces", { token: bob.token });
    expect(bobs.body).toEqual([]);
    expect(isErrorBody((await g.api("/api/workspaces?all=1", { token: bob.token })).body, "forbidden")).toBe(true);
  });

  it("logs: returns the container's last lines, never the token", async () => {
    const res = await waitFor(
      "Jupyter's start-up lines in the logs",
      () => g.api(`/api/workspaces/${ws.id}/logs?tail=200`, { token: alice.token }),
      (r) => r.status === 200 && r.body.lines.some((l: string) => l.includes(`/w/${ws.id}/`)),
      20_000,
      500,
    );
    expect(Array.isArray(res.body.lines)).toBe(true);
    expect(res.body.lines.length).toBeGreaterThan(0);
    expect(res.text).not.toContain(token);
    // The raw Docker logs do carry the token (Jupyter prints its URL), so the redaction is what keeps it out.
    const raw = (await docker.getContainer(ws.containerId).logs({ stdout: true, stderr: true, tail: 200 })).toString("utf8");
    if (raw.includes(token)) expect(res.text).toContain("[token hidden]");

    const two = await g.api(`/api/workspaces/${ws.id}/logs?tail=2`, { token: alice.token });
    expect(two.status).toBe(200);
    expect(two.body.lines.length).toBeLessThanOrEqual(2);
    for (const bad of ["0", "-1", "abc", "1e309", "5001"]) {
      const r = await g.api(`/api/workspaces/${ws.id}/logs?tail=${bad}`, { token: alice.token });
      expect({ bad, status: r.status, ok: isErrorBody(r.body, "validation_failed") }).toEqual({ bad, status: 422, ok: true });
    }
    expect(g.server.stdout() + g.server.stderr()).not.toContain(token);
  });

  it("another user's workspace is 404 for every action, and nothing happens in Docker", async () => {
    const before = (await inspect(ws.containerId))!;
    const attempts: [string, string][] = [
      ["GET", `/api/workspaces/${ws.id}`],
      ["POST", `/api/workspaces/${ws.id}/stop`],
      ["POST", `/api/workspaces/${ws.id}/start`],
      ["POST", `/api/workspaces/${ws.id}/reset`],
      ["DELETE", `/api/workspaces/${ws.id}`],
      ["GET", `/api/workspaces/${ws.id}/logs?tail=10`],
    ];
    for (const [method, path] of attempts) {
      const r = await g.api(path, { token: bob.token, method });
      expect({ method, path, status: r.status, body: r.body }).toEqual({ method, path, status: 404, body: { error: { code: "not_found", message: expect.any(String) } } });
      expect(r.text).not.toContain(token);
    }
    // Without any credentials: 401, never a hint of existence.
    for (const [method, path] of attempts) {
      const r = await g.api(path, { method });
      expect({ method, path, status: r.status, code: r.body?.error?.code }).toEqual({ method, path, status: 401, code: "unauthorized" });
    }
    const after = (await inspect(ws.containerId))!;
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect((await g.api(`/api/workspaces/${ws.id}`, { token: alice.token })).body.status).toBe("running");
  });

  it("refuses a body on an action route that tries to change the container (422), changing nothing", async () => {
    for (const body of [{ privileged: true }, { image: "alpine" }, { command: "sh" }]) {
      for (const action of ["stop", "start", "reset"]) {
        const r = await g.api(`/api/workspaces/${ws.id}/${action}`, { token: alice.token, json: body });
        expect({ action, body, status: r.status, ok: isErrorBody(r.body, "validation_failed") }).toEqual({ action, body, status: 422, ok: true });
      }
    }
    const after = (await inspect(ws.containerId))!;
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).toBe(info.State.StartedAt);
  });

  it("launching a second workspace with the same name is 409 and creates nothing", async () => {
    const before = (await containersOf(alice.id)).length;
    const res = await launch(alice.token, { name: UNICODE_NAME, imageId: busyboxImageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 });
    expect(res.status, res.text).toBe(409);
    expect(isErrorBody(res.body, "conflict")).toBe(true);
    expect(res.body.error.message).toMatch(/already have a workspace named/);
    expect((await containersOf(alice.id)).length).toBe(before);
    expect((await g.api("/api/workspaces", { token: alice.token })).body).toHaveLength(1);
  });

  it("stop: 200 stopped; the container exists but does not run; the owner's event stream says so and Bob's does not", async () => {
    aliceEvents = await openEvents(g.url, alice.token);
    bobEvents = await openEvents(g.url, bob.token);
    const res = await g.api(`/api/workspaces/${ws.id}/stop`, { token: alice.token, method: "POST" });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ id: ws.id, status: "stopped", containerId: ws.containerId });
    const c = (await inspect(ws.containerId))!;
    expect(c).not.toBeNull();
    expect(c.State.Running).toBe(false);

    const ev = await aliceEvents.waitFor("workspace stopped", (e) => e.event === "workspace" && e.data.workspaceId === ws.id && e.data.workspace?.status === "stopped");
    expect(ev.data.workspace).toMatchObject({ id: ws.id, status: "stopped" });
    // Give Bob's stream the same chance to (wrongly) carry it.
    await new Promise((r) => setTimeout(r, 1000));
    expect(bobEvents.events.filter((e) => JSON.stringify(e.data).includes(ws.id))).toEqual([]);
    expect(bobEvents.text()).not.toContain(ws.id);
    expect(aliceEvents.text()).not.toContain(token);
  });

  it("stop again is harmless (200, still stopped)", async () => {
    const res = await g.api(`/api/workspaces/${ws.id}/stop`, { token: alice.token, method: "POST" });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe("stopped");
  });

  it("start: 200 running, the same container runs again; start again is harmless", async () => {
    const res = await g.api(`/api/workspaces/${ws.id}/start`, { token: alice.token, method: "POST" });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ status: "running", containerId: ws.containerId });
    expect((await inspect(ws.containerId))!.State.Running).toBe(true);
    const again = await g.api(`/api/workspaces/${ws.id}/start`, { token: alice.token, method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: "running", containerId: ws.containerId });
    await aliceEvents.waitFor("workspace running again", (e) => e.event === "workspace" && e.data.workspaceId === ws.id && e.data.workspace?.status === "running");
  });

  it("reset: a new container and a new token; /workspace survives, /tmp does not", async () => {
    const mark = unique("file");
    const write = await exec(ws.containerId, ["sh", "-c", `echo kept > /workspace/${mark} && echo lost > /tmp/${mark} && id -u`], "1000:1000");
    expect(write, write.stderr).toMatchObject({ exitCode: 0, stdout: "1000\n" });

    const res = await g.api(`/api/workspaces/${ws.id}/reset`, { token: alice.token, method: "POST" });
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe("running");
    expect(res.body.containerId).toMatch(/^[0-9a-f]{64}$/);
    expect(res.body.containerId).not.toBe(ws.containerId);
    expect(await inspect(ws.containerId)).toBeNull();
    expect(res.text).not.toContain(token);

    const fresh = (await inspect(res.body.containerId))!;
    expect(fresh.State.Running).toBe(true);
    const newToken = envValue(fresh, "JUPYTER_TOKEN")!;
    expect(newToken.length).toBeGreaterThanOrEqual(32);
    expect(newToken).not.toBe(token);
    expect(res.text).not.toContain(newToken);
    // Same spec on the fresh container.
    expect(fresh.Name).toBe(info.Name);
    expect(fresh.Image).toBe(info.Image);
    expect(fresh.Config.Labels).toMatchObject({ "gantry.managed": "true", "gantry.workspace": ws.id, "gantry.user": alice.id });
    expect(fresh.HostConfig).toMatchObject({ Memory: GiB, MemorySwap: GiB, NanoCpus: 0.5e9, CapDrop: ["ALL"], Privileged: false });
    expect(fresh.Mounts.find((m) => m.Destination === "/workspace")).toMatchObject({ Type: "volume", Name: `gantry-home-${alice.id}` });

    const kept = await exec(res.body.containerId, ["cat", `/workspace/${mark}`], "1000:1000");
    expect(kept).toMatchObject({ exitCode: 0, stdout: "kept\n" });
    const lost = await exec(res.body.containerId, ["sh", "-c", `test -e /tmp/${mark} && echo present || echo absent`], "1000:1000");
    expect(lost.stdout).toBe("absent\n");
    ws = res.body;
  });

  it("delete: 204; the container and the record are gone; the user's volume stays", async () => {
    const res = await g.api(`/api/workspaces/${ws.id}`, { token: alice.token, method: "DELETE" });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expect(await inspect(ws.containerId)).toBeNull();
    expect((await containersOf(alice.id)).filter((c) => c.Labels["gantry.workspace"] === ws.id)).toEqual([]);
    const get = await g.api(`/api/workspaces/${ws.id}`, { token: alice.token });
    expect(get.status).toBe(404);
    expect(isErrorBody(get.body, "not_found")).toBe(true);
    expect((await g.api("/api/workspaces", { token: alice.token })).body).toEqual([]);
    expect(await volumeExists(`gantry-home-${alice.id}`)).toBe(true);
    await aliceEvents.waitFor("workspace-deleted", (e) => e.event === "workspace-deleted" && e.data.workspaceId === ws.id);
    expect(bobEvents.text()).not.toContain(ws.id);
    const again = await g.api(`/api/workspaces/${ws.id}`, { token: alice.token, method: "DELETE" });
    expect(again.status).toBe(404);
  });

  it("a new workspace of the same user finds the files of the old one in /workspace", async () => {
    const res = await launch(alice.token, { name: "second", imageId: busyboxImageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 });
    expect(res.status, res.text).toBe(201);
    const ls = await exec(res.body.containerId, ["ls", "/workspace"]);
    expect(ls.stdout).toMatch(/^file-[0-9a-f]+$/m);
    const del = await g.api(`/api/workspaces/${res.body.id}`, { token: alice.token, method: "DELETE" });
    expect(del.status).toBe(204);
  });
});

describe("conflicting actions", () => {
  it("while a stop is in progress, start/reset/delete are 409 and stop is harmless; then it ends stopped", async () => {
    // busybox runs `sleep infinity` as PID 1, which ignores SIGTERM: `docker stop` waits its full grace period,
    // which gives a deterministic window in which the workspace is "stopping".
    const user = await g.seedUser("carol");
    const res = await launch(user.token, { name: "sleepy", imageId: busyboxImageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe("running");
    const id = res.body.id;
    const containerId = res.body.containerId;

    const stopping = g.api(`/api/workspaces/${id}/stop`, { token: user.token, method: "POST" });
    await waitFor("status stopping", () => g.api(`/api/workspaces/${id}`, { token: user.token }), (r) => r.body.status === "stopping", 5000, 50);

    for (const [method, path] of [
      ["POST", `/api/workspaces/${id}/start`],
      ["POST", `/api/workspaces/${id}/reset`],
      ["DELETE", `/api/workspaces/${id}`],
    ] as const) {
      const r = await g.api(path, { token: user.token, method });
      expect({ method, path, status: r.status, code: r.body?.error?.code }).toEqual({ method, path, status: 409, code: "conflict" });
    }
    const again = await g.api(`/api/workspaces/${id}/stop`, { token: user.token, method: "POST" });
    expect(again.status).toBe(200);
    expect(again.body.status).toBe("stopping");
    expect(await inspect(containerId)).not.toBeNull();

    const done = await stopping;
    expect(done.status, done.text).toBe(200);
    expect(done.body.status).toBe("stopped");
    expect((await inspect(containerId))!.State.Running).toBe(false);
    // And the status stays "stopped" once Docker's events about the kill have been reconciled.
    await new Promise((r) => setTimeout(r, 1500));
    expect((await g.api(`/api/workspaces/${id}`, { token: user.token })).body.status).toBe("stopped");
    expect((await g.api(`/api/workspaces/${id}`, { token: user.token, method: "DELETE" })).status).toBe(204);
  });
});
