import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../helpers/gantry-server";
import {
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  SETUP_TIMEOUT_MS,
  docker,
  exec,
  gantryEnv,
  inspect,
  startGantry,
  waitFor,
  type GantryEnv,
  type Seeded,
} from "../helpers/workspaces";

// State stays true: what happens to containers outside Gantry (removed, killed, OOM-killed, changed while
// Gantry was down) shows in the workspace's status within seconds.

let g: GantryEnv;
let user: Seeded;
let jupyterId: string;
let oomId: string;

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-reconcile-" });
  user = await g.seedUser("rec");
  jupyterId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  // The image's memory eater as the main process: the kernel's OOM killer takes the container's main process.
  oomId = await g.addImage({ name: "memory-eater", ref: JUPYTER_IMAGE, command: "gantry-eat-memory 50 0.05" });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
}, SETUP_TIMEOUT_MS);

async function launch(name: string, imageId = jupyterId, memoryGb = 1) {
  const res = await g.api("/api/workspaces", { token: user.token, json: { name, imageId, gpus: 0, memoryGb, cpus: 0.5 } });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

function get(id: string) {
  return g.api(`/api/workspaces/${id}`, { token: user.token }).then((r) => r.body);
}

async function remove(id: string) {
  const res = await g.api(`/api/workspaces/${id}`, { token: user.token, method: "DELETE" });
  expect(res.status, res.text).toBe(204);
}

describe("reconciliation from Docker's events", () => {
  it("docker rm -f: the status becomes error with a message within 10 s; start makes a new container", async () => {
    const ws = await launch("removed");
    expect(ws.status).toBe("running");
    await docker.getContainer(ws.containerId).remove({ force: true });
    const seen = await waitFor("status error after docker rm -f", () => get(ws.id), (w) => w.status === "error", 10_000);
    expect(seen.statusMessage.length).toBeGreaterThan(5);

    const started = await g.api(`/api/workspaces/${ws.id}/start`, { token: user.token, method: "POST" });
    expect(started.status, started.text).toBe(200);
    expect(started.body.status).toBe("running");
    expect(started.body.containerId).not.toBe(ws.containerId);
    expect((await inspect(started.body.containerId))!.State.Running).toBe(true);
    await remove(ws.id);
  });

  it("a container killed and then removed outside Gantry: the workspace says it is gone, not that it exited", async () => {
    const ws = await launch("killed-then-removed");
    await docker.getContainer(ws.containerId).kill();
    await waitFor("status error after docker kill", () => get(ws.id), (w) => w.status === "error", 10_000);
    await docker.getContainer(ws.containerId).remove({ force: true });
    // The record must not keep pointing at a container that no longer exists, with a message about an exit code.
    const seen = await waitFor(
      "the workspace to notice its container is gone",
      () => get(ws.id),
      (w) => w.containerId === null || /removed/i.test(w.statusMessage),
      10_000,
    ).catch(async () => get(ws.id));
    expect({ status: seen.status, containerId: seen.containerId, removedMessage: /removed/i.test(seen.statusMessage) }).toEqual({
      status: "error",
      containerId: null,
      removedMessage: true,
    });
    await remove(ws.id);
  });

  it("a stopped workspace's container started outside Gantry is stopped again, audited as system:reconciler", async () => {
    const ws = await launch("started-outside");
    const stopped = await g.api(`/api/workspaces/${ws.id}/stop`, { token: user.token, method: "POST" });
    expect(stopped.status, stopped.text).toBe(200);
    await docker.getContainer(ws.containerId).start();
    await waitFor("the reconciler to stop it", () => inspect(ws.containerId), (c) => c?.State.Running === false, 15_000, 200);
    expect((await get(ws.id)).status).toBe("stopped");
    const audit = await g.api("/api/admin/audit?pageSize=50", { token: g.adminToken });
    const event = audit.body.events.find((e: any) => e.action === "workspace.container_stopped" && e.targetId === ws.id);
    expect(event, JSON.stringify(audit.body.events.slice(0, 5))).toBeTruthy();
    expect(event.actorEmail ?? event.actor?.email).toBe("system:reconciler");
    await remove(ws.id);
  });

  it("docker kill: the status stops saying running within seconds; start runs it again", async () => {
    const ws = await launch("killed");
    await docker.getContainer(ws.containerId).kill();
    const seen = await waitFor("status not running after docker kill", () => get(ws.id), (w) => w.status !== "running", 10_000);
    expect(seen.status).toBe("error");
    expect(seen.statusMessage.length).toBeGreaterThan(5);
    expect(seen.statusMessage).not.toMatch(/out of memory/i);

    const started = await g.api(`/api/workspaces/${ws.id}/start`, { token: user.token, method: "POST" });
    expect(started.status, started.text).toBe(200);
    expect(started.body.status).toBe("running");
    expect((await inspect(started.body.containerId))!.State.Running).toBe(true);
    await remove(ws.id);
  });

  it("an OOM kill of the main process: status error, 'out of memory'", async () => {
    const ws = await launch("oom", oomId, 0.5);
    const seen = await waitFor("status error after the OOM kill", () => get(ws.id), (w) => w.status === "error", 30_000, 250);
    expect(seen.statusMessage).toMatch(/out of memory/i);
    const info = (await inspect(ws.containerId))!;
    expect(info.State.OOMKilled).toBe(true);
    expect(info.HostConfig.Memory).toBe(0.5 * 1024 ** 3);
    await remove(ws.id);
  });

  it("an OOM kill inside a workspace that keeps running (docker exec gantry-eat-memory) leaves it running, and a later stop is 'stopped'", async () => {
    const ws = await launch("oom-inside", jupyterId, 0.5);
    const eater = await exec(ws.containerId, ["gantry-eat-memory", "50", "0.05"]);
    expect(eater.exitCode).toBe(137); // SIGKILL from the kernel's OOM killer
    const info = (await inspect(ws.containerId))!;
    // Which process the kernel kills is the kernel's choice; the eater is by far the largest, so it goes.
    expect(info.State.Running).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await get(ws.id)).status).toBe("running");

    const stopped = await g.api(`/api/workspaces/${ws.id}/stop`, { token: user.token, method: "POST" });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body.status).toBe("stopped");
    // Docker keeps State.OOMKilled from the earlier kill of the eater; the user's stop is still just a stop.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await get(ws.id);
    expect({ status: after.status, statusMessage: after.statusMessage }).toEqual({ status: "stopped", statusMessage: "" });
    await remove(ws.id);
  });
});

describe("while Gantry was down", () => {
  it("reconciles at start: a container killed while the server was dead, and one it made but never recorded", async () => {
    const killed = await launch("killed-while-down");
    const unrecorded = await launch("created-not-recorded");
    expect([killed.status, unrecorded.status]).toEqual(["running", "running"]);

    await g.server.kill("SIGKILL");
    await docker.getContainer(killed.containerId).kill();
    // As if Gantry had died right after Docker created the container, before it wrote the id down.
    const conn = new Database(g.dataDir.databaseFile, { fileMustExist: true });
    try {
      conn.prepare("UPDATE Workspace SET containerId = NULL, status = 'starting' WHERE id = ?").run(unrecorded.id);
    } finally {
      conn.close();
    }

    const server = await startServer({ dataDir: g.dataDir.path, adminEmail: null, adminPassword: null });
    g = gantryEnv(server, g.dataDir, g.adminToken, g.users);

    const k = await waitFor("the killed workspace to stop saying running", () => get(killed.id), (w) => w.status !== "running", 10_000);
    expect(k.status).toBe("error");

    const u = await waitFor("the unrecorded container to be adopted", () => get(unrecorded.id), (w) => w.status === "running" && w.containerId !== null, 10_000);
    expect(u.containerId).toBe(unrecorded.containerId);
    expect((await inspect(unrecorded.containerId))!.State.Running).toBe(true);
    const mine = await docker.listContainers({ all: true, filters: { label: [`gantry.workspace=${unrecorded.id}`] } });
    expect(mine.map((c) => c.Id)).toEqual([unrecorded.containerId]);

    await remove(killed.id);
    await remove(unrecorded.id);
  });
});
