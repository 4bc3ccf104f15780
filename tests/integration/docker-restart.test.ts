import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths";
import {
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  SETUP_TIMEOUT_MS,
  docker,
  inspect,
  isErrorBody,
  startGantry,
  waitFor,
  type GantryEnv,
  type Seeded,
} from "../helpers/workspaces";

// A dockerd restart under a running Gantry. Disruptive for anything else on the same engine, so it lives alone in
// this file. dockerd must have been started by scripts/ci/start-dockerd.sh (its PID file is how it is stopped), and
// it is started again at the end whatever happens.

const run = promisify(execFile);
const SCRIPTS = path.join(REPO_ROOT, "scripts", "ci");

async function script(name: string): Promise<string> {
  const { stdout, stderr } = await run("bash", [path.join(SCRIPTS, name)], { timeout: 180_000 });
  return stdout + stderr;
}

async function dockerAnswers(): Promise<boolean> {
  try {
    await Promise.race([docker.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), 3000))]);
    return true;
  } catch {
    return false;
  }
}

async function ensureDockerd(): Promise<void> {
  if (await dockerAnswers()) return;
  await script("start-dockerd.sh");
}

let g: GantryEnv;
let user: Seeded;
let imageId: string;

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-dockerd-" });
  user = await g.seedUser("restart");
  imageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await ensureDockerd();
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
}, SETUP_TIMEOUT_MS);

function get(id: string) {
  return g.api(`/api/workspaces/${id}`, { token: user.token }).then((r) => r.body);
}

describe("dockerd restart", () => {
  it("statuses converge to the truth (not running), Docker-down requests are 503 and change nothing, and Gantry works again after", async () => {
    const launch = async (name: string) => {
      const res = await g.api("/api/workspaces", { token: user.token, json: { name, imageId, gpus: 0, memoryGb: 1, cpus: 0.5 } });
      expect(res.status, res.text).toBe(201);
      return res.body;
    };
    const running = await launch("was-running");
    const stopped = await launch("was-stopped");
    const stop = await g.api(`/api/workspaces/${stopped.id}/stop`, { token: user.token, method: "POST" });
    expect(stop.body.status).toBe("stopped");

    try {
      const out = await script("stop-dockerd.sh");
      if (await dockerAnswers()) {
        throw new Error(`dockerd still answers after stop-dockerd.sh (was it started by start-dockerd.sh?):\n${out}`);
      }

      const health = await waitFor("health to see Docker down", () => g.api("/api/health"), (r) => r.body?.docker === false, 10_000);
      expect(health.body).toMatchObject({ database: true, docker: false });
      const launchDown = await g.api("/api/workspaces", { token: user.token, json: { name: "while-down", imageId, gpus: 0, memoryGb: 1, cpus: 0.5 } });
      expect({ status: launchDown.status, ok: isErrorBody(launchDown.body, "docker_unavailable") }, launchDown.text).toEqual({ status: 503, ok: true });
      for (const [method, path] of [
        ["POST", `/api/workspaces/${stopped.id}/start`],
        ["POST", `/api/workspaces/${stopped.id}/reset`],
        ["DELETE", `/api/workspaces/${stopped.id}`],
      ] as const) {
        const r = await g.api(path, { token: user.token, method });
        expect({ method, path, status: r.status, code: r.body?.error?.code }).toEqual({ method, path, status: 503, code: "docker_unavailable" });
      }
      const list = await g.api("/api/workspaces", { token: user.token });
      expect(list.body.map((w: any) => w.name).sort()).toEqual(["was-running", "was-stopped"]);
      expect(list.body.find((w: any) => w.id === stopped.id).status).toBe("stopped");
    } finally {
      await script("start-dockerd.sh");
    }
    expect(await dockerAnswers()).toBe(true);

    // dockerd stopped every container on its way down; nothing restarts them (RestartPolicy "no").
    expect((await inspect(running.containerId))!.State.Running).toBe(false);
    const after = await waitFor("the running workspace to stop saying running", () => get(running.id), (w) => w.status !== "running", 30_000, 500);
    expect(["error", "stopped"]).toContain(after.status);
    expect(after.statusMessage.length).toBeGreaterThan(0);
    expect((await get(stopped.id)).status).toBe("stopped");

    // And Gantry drives the new engine: the workspace starts again, and a new launch works.
    const started = await g.api(`/api/workspaces/${running.id}/start`, { token: user.token, method: "POST" });
    expect(started.status, started.text).toBe(200);
    expect(started.body.status).toBe("running");
    expect((await inspect(started.body.containerId))!.State.Running).toBe(true);
    const fresh = await launch("after-restart");
    expect(fresh.status).toBe("running");
    for (const id of [running.id, stopped.id, fresh.id]) {
      expect((await g.api(`/api/workspaces/${id}`, { token: user.token, method: "DELETE" })).status).toBe(204);
    }
  });
});
