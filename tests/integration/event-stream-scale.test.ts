import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND, removeUsersDockerResources } from "../helpers/gantry-api";
import {
  createUsers,
  enableMetrics,
  foreignEvents,
  hostSlots,
  launchAndStop,
  openClients,
  openStreamGauge,
  statusesOf,
  type Change,
  type Client,
} from "../helpers/event-fanout";
import { BUSYBOX_IMAGE, SETUP_TIMEOUT_MS, openEvents, startGantry, waitFor, type EventStream, type GantryEnv, type Seeded } from "../helpers/workspaces";

// Many dashboards open: 100 event streams (GET /api/events, two per user) across 50 users while 20 of them launch and
// stop a workspace on the real engine. Every owner's two streams see each status change of their workspace; no stream
// carries anything about another user; an admin's stream sees them all; the open-stream gauge in /metrics counts the
// streams and goes back down when they disconnect. Timings are bench/sse-fanout.ts's business, not this test's.

const USERS = 50;
const STREAMS_PER_USER = 2;
const OWNERS = 20;

let g: GantryEnv;
let imageId: string;
let metricsToken: string;
let users: Seeded[] = [];
let clients: Client[] = [];
let admin: EventStream;
let baseline: number;
let changes: Change[] = [];

const gauge = () => openStreamGauge(g.url, metricsToken);

beforeAll(async () => {
  const t0 = Date.now();
  g = await startGantry({ prefix: "gantry-sse-scale-" });
  const t1 = Date.now();
  imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  metricsToken = await enableMetrics(g.url, g.adminToken);
  users = await createUsers(g.url, g.adminToken, USERS, "fan");
  admin = await openEvents(g.url, g.adminToken);
  baseline = await gauge();
  console.log(`event-stream scale set-up: server ${t1 - t0} ms, ${USERS} users with tokens ${Date.now() - t1} ms`);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  for (const c of clients) c.stream.close();
  admin?.close();
  await removeUsersDockerResources(users.map((u) => u.id));
  await g?.server.stop();
  g?.dataDir.remove();
}, SETUP_TIMEOUT_MS);

describe("100 event streams across 50 users", () => {
  it("are all open and counted by gantry_event_stream_clients", async () => {
    clients = await openClients(g.url, users, STREAMS_PER_USER);
    expect(clients).toHaveLength(USERS * STREAMS_PER_USER);
    expect(await gauge()).toBe(baseline + USERS * STREAMS_PER_USER);
  });

  it("each owner's two streams see every status change of their workspace, while 20 workspaces launch and stop", async () => {
    const owners = users.slice(0, OWNERS);
    changes = await launchAndStop(g.url, owners, imageId, await hostSlots());
    for (const { user, workspaceId } of changes) {
      const mine = clients.filter((c) => c.user.id === user.id);
      expect(mine).toHaveLength(STREAMS_PER_USER);
      for (const c of mine) {
        await c.stream.waitFor(`${workspaceId} stopped on ${user.email}'s stream`, (e) => e.event === "workspace" && e.data.workspaceId === workspaceId && e.data.workspace.status === "stopped");
        // Launch: starting, running; stop: stopping, stopped. The reconciler may repeat a status, never skip one.
        const seen = statusesOf(c.stream, workspaceId).filter((s, i, all) => s !== all[i - 1]);
        expect(seen, `statuses of ${workspaceId} on ${user.email}'s stream`).toEqual(["starting", "running", "stopping", "stopped"]);
      }
    }
    for (const { workspaceId } of changes) {
      await admin.waitFor(`${workspaceId} stopped on the admin's stream`, (e) => e.event === "workspace" && e.data.workspaceId === workspaceId && e.data.workspace.status === "stopped");
    }
  });

  it("no stream carries an event about another user, and users without a workspace got none", async () => {
    const ownWorkspaces = new Map(users.map((u) => [u.id, new Set(changes.filter((c) => c.user.id === u.id).map((c) => c.workspaceId))]));
    const leaks = clients.flatMap((c) => foreignEvents(c, ownWorkspaces.get(c.user.id)!).map((line) => `${c.user.email}: ${line}`));
    expect(leaks).toEqual([]);
    const bystanders = clients.filter((c) => ownWorkspaces.get(c.user.id)!.size === 0);
    expect(bystanders).toHaveLength((USERS - OWNERS) * STREAMS_PER_USER);
    for (const c of bystanders) expect(c.stream.events.map((e) => e.event)).toEqual(["hello"]);
  });

  it("a stream that disconnects is no longer counted: half of them, then the rest", async () => {
    const [first, rest] = [clients.filter((_, i) => i % 2 === 0), clients.filter((_, i) => i % 2 === 1)];
    for (const c of first) c.stream.close();
    await waitFor("the gauge to drop by the half that left", gauge, (n) => n === baseline + rest.length, 10_000, 100);
    for (const c of rest) c.stream.close();
    await waitFor("the gauge to return to its baseline", gauge, (n) => n === baseline, 10_000, 100);
    admin.close();
    await waitFor("the admin's stream to be gone too", gauge, (n) => n === baseline - 1, 10_000, 100);
  });
});
