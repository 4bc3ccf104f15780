import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer } from "../helpers/gantry-server";
import { QUICK_STOP_COMMAND, waitFor } from "../helpers/gantry-api";
import { lifecycleViolations, waitSettled } from "../helpers/invariants";
import { ADMIN_EMAIL, BUSYBOX_IMAGE, SETUP_TIMEOUT_MS, docker, gantryEnv, startGantry, unique, type GantryEnv, type Seeded } from "../helpers/workspaces";

// The lifecycle's invariants when Gantry itself dies: an action is sent, the whole server process group is killed
// with SIGKILL at a random moment of it, and a new server is started on the same data dir. Claims left by the dead
// process are taken over by the new one's reconciler; once everything has settled the invariants must hold, and the
// workspace must be usable again (start, stop or delete as its status allows).

const ROUNDS = 10;
const ACTIONS = ["launch", "start", "stop", "reset", "delete"] as const;
const ROOMY = { maxGpus: 4, maxMemoryGb: 64, maxCpus: 64, maxWorkspaces: 100 };

let g: GantryEnv;
let imageId: string;
let user: Seeded;
let rounds = 0;
let interrupted = 0;

/** Workspaces that the dead process left claimed: the rounds in which the kill really landed mid-action. */
function claimedRows(): number {
  const conn = new Database(g.dataDir.databaseFile, { readonly: true });
  try {
    return (conn.prepare("SELECT COUNT(*) AS n FROM Workspace WHERE actionId IS NOT NULL").get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function restart(): Promise<void> {
  const server = await startServer({ dataDir: g.dataDir.path, adminEmail: ADMIN_EMAIL });
  g = gantryEnv(server, g.dataDir, g.adminToken, g.users);
}

async function running(gpus: number): Promise<string> {
  const r = await g.api("/api/workspaces", { token: user.token, json: { name: unique("victim"), imageId, gpus, memoryGb: 0.5, cpus: 0.5 } });
  expect(r.status, r.text).toBe(201);
  expect(r.body.status).toBe("running");
  return r.body.id;
}

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-kills-" });
  imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  user = await g.seedUser("survivor");
  const quota = await g.api(`/api/admin/users/${user.id}/quota`, { token: g.adminToken, method: "PUT", json: ROOMY });
  expect(quota.status, quota.text).toBe(200);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  console.log(`lifecycle kills: ${rounds} rounds checked, ${interrupted} of them killed mid-action`);
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("SIGKILL of Gantry in the middle of an action, then a restart", () => {
  it(`${ROUNDS} rounds over launch, start, stop, reset and delete: claims are recovered and the invariants hold`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const action = ACTIONS[i % ACTIONS.length];
      const gpus = 1 + (i % 2);
      let id: string | null = null;
      if (action !== "launch") id = await running(gpus);
      if (action === "start") {
        const stopped = await g.api(`/api/workspaces/${id}/stop`, { token: user.token, method: "POST" });
        expect(stopped.body.status, stopped.text).toBe("stopped");
      }
      const request =
        action === "launch"
          ? g.api("/api/workspaces", { token: user.token, json: { name: unique("killed"), imageId, gpus, memoryGb: 0.5, cpus: 0.5 } })
          : action === "delete"
            ? g.api(`/api/workspaces/${id}`, { token: user.token, method: "DELETE" })
            : g.api(`/api/workspaces/${id}/${action}`, { token: user.token, method: "POST" });
      request.catch(() => {});
      await sleep(Math.floor(Math.random() * 700));
      await g.server.kill("SIGKILL");
      await request.catch(() => null);
      if (claimedRows() > 0) interrupted++;
      await restart();
      await waitSettled(g.dataDir.databaseFile, [user.id], 90_000);
      await sleep(500);
      await waitSettled(g.dataDir.databaseFile, [user.id], 30_000);
      expect({ round: i, action, problems: await lifecycleViolations(g.dataDir.databaseFile, [user.id]) }).toEqual({ round: i, action, problems: [] });
      // Whatever state it was left in, the workspace can be acted on again: every one of them can be deleted.
      const list = await g.api("/api/workspaces", { token: user.token });
      for (const w of list.body as { id: string; status: string }[]) {
        const del = await g.api(`/api/workspaces/${w.id}`, { token: user.token, method: "DELETE" });
        expect({ status: w.status, delete: del.status }, del.text).toEqual({ status: w.status, delete: 204 });
      }
      expect(await lifecycleViolations(g.dataDir.databaseFile, [user.id])).toEqual([]);
      rounds++;
    }
    // Random moments: most kills land while an action holds its claim (the rest before it or after it finished).
    expect(interrupted, "no kill landed mid-action: the test would not test recovery").toBeGreaterThan(0);
  });

  it("a launch killed after its container was made: the reconciler removes the container on its own, audited as system:reconciler", async () => {
    // The moment is found, not guessed: the database is watched until the launch has recorded its container while it
    // still holds its claim (between create and start), and the server is killed right then.
    const pending = (): { id: string; containerId: string } | undefined => {
      const conn = new Database(g.dataDir.databaseFile, { readonly: true });
      try {
        return conn.prepare("SELECT id, containerId FROM Workspace WHERE userId = ? AND actionId IS NOT NULL AND containerId IS NOT NULL").get(user.id) as any;
      } finally {
        conn.close();
      }
    };
    let caught: { id: string; containerId: string } | undefined;
    for (let attempt = 0; attempt < 15 && !caught; attempt++) {
      const request = g.api("/api/workspaces", { token: user.token, json: { name: unique("made"), imageId, gpus: 1, memoryGb: 0.5, cpus: 0.5 } });
      request.catch(() => {});
      let done = false;
      void request.finally(() => (done = true)).catch(() => {});
      while (!done && !(caught = pending())) await sleep(2);
      if (!caught) {
        // Too late this time: the launch finished. Delete it and try again.
        const r = await request;
        expect((await g.api(`/api/workspaces/${r.body.id}`, { token: user.token, method: "DELETE" })).status).toBe(204);
        continue;
      }
      await g.server.kill("SIGKILL");
      await request.catch(() => null);
    }
    expect(caught, "the launch never paused between create and start long enough to be caught").toBeTruthy();
    const { id, containerId } = caught!;
    // The container did not run on (as if the kill came before docker start returned): it holds a GPU nobody accounts for.
    const c = docker.getContainer(containerId);
    if ((await c.inspect()).State.Running) await c.kill();
    await restart();
    await waitSettled(g.dataDir.databaseFile, [user.id], 60_000);

    const gone = await c.inspect().then(() => false, (e: { statusCode?: number }) => e.statusCode === 404);
    expect(gone, "the reconciler should have removed the half-made container").toBe(true);
    const ws = await g.api(`/api/workspaces/${id}`, { token: user.token });
    expect(ws.body.status).toBe("error");
    expect(ws.body.statusMessage).toMatch(/Gantry was restarted while this workspace was/);
    const audit = await g.api("/api/admin/audit?pageSize=100", { token: g.adminToken });
    const event = audit.body.events.find((e: any) => e.action === "workspace.recover" && e.targetId === id);
    expect(event, JSON.stringify(audit.body.events.slice(0, 5))).toBeTruthy();
    expect(event.actorEmail ?? event.actor?.email).toBe("system:reconciler");
    const after = typeof event.after === "string" ? JSON.parse(event.after) : event.after;
    expect(after).toMatchObject({ container: containerId, did: "removed", status: "error" });
    expect(await lifecycleViolations(g.dataDir.databaseFile, [user.id])).toEqual([]);
    expect((await g.api(`/api/workspaces/${id}`, { token: user.token, method: "DELETE" })).status).toBe(204);
  });

  it("an interval left open by a crash ends when Docker says the container stopped, or at the dead process's last sign of life", async () => {
    type Interval = { workspaceId: string; start: string; end: string | null; endReason: string | null };
    const intervalOf = async (id: string) => {
      const u = await g.api("/api/me/usage", { token: user.token });
      return (u.body.intervals as Interval[]).find((i) => i.workspaceId === id)!;
    };
    // The container dies while Gantry is down: the interval ends at Docker's FinishedAt, not at the restart.
    const died = await running(1);
    const diedContainer = (await g.api(`/api/workspaces/${died}`, { token: user.token })).body.containerId as string;
    await g.server.kill("SIGKILL");
    await docker.getContainer(diedContainer).kill();
    const finishedAt = Date.parse((await docker.getContainer(diedContainer).inspect()).State.FinishedAt);
    await sleep(3000);
    await restart();
    await waitSettled(g.dataDir.databaseFile, [user.id], 60_000);
    await waitFor(async () => (await intervalOf(died)).end !== null);
    const a = await intervalOf(died);
    expect(a.endReason).toBe("crash");
    expect(Math.abs(Date.parse(a.end!) - finishedAt)).toBeLessThan(1000);

    // The container is removed while Gantry is down: Docker knows nothing any more, so the interval ends no later than
    // the dead process's last heartbeat (and never before it began).
    const removed = await running(1);
    const removedContainer = (await g.api(`/api/workspaces/${removed}`, { token: user.token })).body.containerId as string;
    const killedAt = Date.now();
    await g.server.kill("SIGKILL");
    await docker.getContainer(removedContainer).remove({ force: true });
    await sleep(3000);
    await restart();
    await waitSettled(g.dataDir.databaseFile, [user.id], 60_000);
    await waitFor(async () => (await intervalOf(removed)).end !== null);
    const b = await intervalOf(removed);
    expect(b.endReason).toBe("crash");
    expect(Date.parse(b.end!)).toBeLessThanOrEqual(killedAt);
    expect(Date.parse(b.end!)).toBeGreaterThanOrEqual(Date.parse(b.start));
    expect(await lifecycleViolations(g.dataDir.databaseFile, [user.id])).toEqual([]);
    for (const id of [died, removed]) expect((await g.api(`/api/workspaces/${id}`, { token: user.token, method: "DELETE" })).status).toBe(204);
  });
});
