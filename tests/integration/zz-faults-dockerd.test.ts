import { execFile } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths";
import {
  BUSYBOX_IMAGE,
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  SETUP_TIMEOUT_MS,
  containersOfWorkspace,
  docker,
  expectErrorShape,
  expectNoSecrets,
  rand,
  sleep,
  startSecurityEnv,
  waitFor,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// The Docker engine goes away and comes back. This file stops the shared dockerd (scripts/ci/stop-dockerd.sh), so it
// runs on its own and last; afterAll always starts it again (scripts/ci/start-dockerd.sh), whatever happened.
// While it is down: every action answers 503 docker_unavailable within ~2 s and changes nothing in the database.
// When it is back: Gantry notices by itself, and statuses converge on what Docker says.

const SCRIPTS = path.join(REPO_ROOT, "scripts", "ci");

function script(name: string, timeoutMs = 180_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("bash", [path.join(SCRIPTS, name)], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${name} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(`${stdout}${stderr}`);
    });
  });
}

async function dockerAnswers(): Promise<boolean> {
  return docker.ping().then(() => true, () => false);
}

let env: SecurityEnv;
let user: Principal;
let busyboxId: string;
let jupyterId: string;
let running: { id: string; containerId: string };
let stopped: { id: string; containerId: string };
let dockerStopped = false;

type Ws = { id: string; status: string; statusMessage: string; containerId: string | null; gpuDevices: { uuid: string }[] };

function dbSnapshot(): unknown {
  const conn = new Database(env.dataDir.databaseFile, { readonly: true, fileMustExist: true });
  try {
    return {
      workspaces: conn.prepare("SELECT id, status, statusMessage, containerId, containerGpus, jupyterToken, updatedAt FROM Workspace ORDER BY id").all(),
      allocations: conn.prepare("SELECT gpuUuid, workspaceId, userId FROM GpuAllocation ORDER BY gpuUuid").all(),
      users: conn.prepare("SELECT id, role, disabled, sessionEpoch, updatedAt FROM User ORDER BY id").all(),
      audit: conn.prepare("SELECT COUNT(*) AS n FROM AuditEvent").get(),
    };
  } finally {
    conn.close();
  }
}

async function getWs(id: string): Promise<Ws> {
  const res = await env.req<Ws>(`/api/workspaces/${id}`, { token: user.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-dockerd-", gpus: true });
  busyboxId = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
  jupyterId = await env.addImage(`jupyter-${rand()}`, JUPYTER_IMAGE, JUPYTER_COMMAND);
  user = await env.createUser("dockerd");
  const a = await env.launch(user, { name: "running", imageId: busyboxId, gpus: 1 });
  expect(a.status, a.text).toBe(201);
  running = { id: a.body.id, containerId: a.body.containerId };
  const b = await env.launch(user, { name: "stopped", imageId: jupyterId, gpus: 0 });
  expect(b.status, b.text).toBe(201);
  stopped = { id: b.body.id, containerId: b.body.containerId };
  const s = await env.req(`/api/workspaces/${stopped.id}/stop`, { token: user.token, json: {} });
  expect(s.status, s.text).toBe(200);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  // Whatever happened above: the shared engine must be running again for everyone else.
  if (dockerStopped || !(await dockerAnswers())) {
    await script("start-dockerd.sh").catch(async (e) => {
      await sleep(2000);
      await script("start-dockerd.sh").catch(() => {
        throw e;
      });
    });
  }
  await env?.cleanup();
}, SETUP_TIMEOUT_MS);

describe("dockerd stopped, then started again", () => {
  it("while it is down: 503 docker_unavailable within ~2 s for every action, nothing changes, health says docker false", async () => {
    dockerStopped = true;
    await script("stop-dockerd.sh");
    expect(await dockerAnswers()).toBe(false);
    const health = await waitFor("/api/health to notice", () => env.req("/api/health"), (r) => r.body?.docker === false, 15_000);
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: false, database: true, docker: false });
    await sleep(2000);
    const before = dbSnapshot();

    const actions: [string, () => Promise<{ status: number; ms: number; body: any; text: string; headers: Headers }>][] = [
      ["launch", () => env.launch(user, { name: `while-down-${rand()}`, imageId: busyboxId, gpus: 1 })],
      ["stop the running one", () => env.req(`/api/workspaces/${running.id}/stop`, { token: user.token, json: {} })],
      ["start the stopped one", () => env.req(`/api/workspaces/${stopped.id}/start`, { token: user.token, json: {} })],
      ["reset the running one", () => env.req(`/api/workspaces/${running.id}/reset`, { token: user.token, json: {} })],
      ["reset the stopped one", () => env.req(`/api/workspaces/${stopped.id}/reset`, { token: user.token, json: {} })],
      ["delete the running one", () => env.req(`/api/workspaces/${running.id}`, { method: "DELETE", token: user.token })],
      ["delete the stopped one", () => env.req(`/api/workspaces/${stopped.id}`, { method: "DELETE", token: user.token })],
      ["logs", () => env.req(`/api/workspaces/${running.id}/logs`, { token: user.token })],
      ["an admin resets it", () => env.req(`/api/workspaces/${running.id}/reset`, { token: env.admin.token, json: {} })],
      ["an admin deletes the user", () => env.req(`/api/admin/users/${user.id}`, { method: "DELETE", token: env.admin.token })],
    ];
    for (const [what, call] of actions) {
      const res = await call();
      expectErrorShape(res, 503, "docker_unavailable");
      expect(res.ms, `${what} took ${res.ms} ms`).toBeLessThan(2500);
    }
    // Reads from the database go on.
    const list = await env.req<Ws[]>("/api/workspaces", { token: user.token });
    expect(list.status).toBe(200);
    expect(list.body.map((w) => w.id).sort()).toEqual([running.id, stopped.id].sort());
    expect(dbSnapshot()).toEqual(before);
    // The user was not disabled half-way through the refused deletion.
    expect((await env.req("/api/me", { token: user.token })).status).toBe(200);
  });

  it("when it is back: Gantry recovers by itself (health, then a launch), without a restart", async () => {
    await script("start-dockerd.sh");
    dockerStopped = false;
    await waitFor("/api/health to say docker true", () => env.req("/api/health"), (r) => r.body?.docker === true, 60_000, 500);
    const launched = await env.launch(user, { name: "after-recovery", imageId: busyboxId, gpus: 0 });
    expect(launched.status, launched.text).toBe(201);
    expect(launched.body.status).toBe("running");
    expect((await env.inspect(launched.body.containerId)).State.Running).toBe(true);
  });

  it("statuses converge on Docker's truth: the workspace whose container died with the engine is no longer 'running' and holds no GPU", async () => {
    const info = await docker.getContainer(running.containerId).inspect();
    expect(info.State.Running, "dockerd restarts without live-restore: containers come back stopped").toBe(false);
    const ws = await waitFor("the status to follow the dead container", () => getWs(running.id), (w) => w.status !== "running", 45_000, 500);
    expect(["error", "stopped"]).toContain(ws.status);
    expect(ws.gpuDevices).toEqual([]);
    const gpus = await env.req<{ workspaceId: string | null }[]>("/api/admin/gpus", { token: env.admin.token });
    expect(gpus.body.filter((g) => g.workspaceId === running.id)).toEqual([]);
    expect((await getWs(stopped.id)).status).toBe("stopped");
    // Every workspace of the user: "running" exactly when its container runs.
    const list = await env.req<Ws[]>("/api/workspaces", { token: user.token });
    for (const w of list.body) {
      const live = w.containerId ? (await docker.getContainer(w.containerId).inspect().catch(() => null))?.State.Running ?? false : false;
      expect({ id: w.id, running: w.status === "running" }).toEqual({ id: w.id, running: live });
    }
    const usage = (await env.req("/api/me", { token: user.token })).body.usage;
    expect(usage.gpus).toBe(0);
    // And it starts again, in exactly one container.
    const started = await env.req<Ws>(`/api/workspaces/${running.id}/start`, { token: user.token, json: {} });
    expect(started.status, started.text).toBe(200);
    expect(started.body.status).toBe("running");
    expect((await containersOfWorkspace(running.id)).map((c) => c.Id)).toEqual([started.body.containerId]);
  });

  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});
