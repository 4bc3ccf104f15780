// Many dashboards at once: users made through the admin API, two event streams each, workspaces launched and stopped
// on the real engine, and what each stream received checked against whose it is. Shared by the integration test
// (tests/integration/event-stream-scale.test.ts) and the benchmark (bench/sse-fanout.ts).
import crypto from "node:crypto";
import Docker from "dockerode";
import { createTokenByLogin } from "./gantry-api";
import { callApi, openEvents, type EventStream, type Seeded } from "./workspaces";

/** Runs `fn` over `items`, at most `limit` at a time; resolves with the results in order. */
export async function inPool<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/**
 * `n` users made by the admin through the API, each with an API token made by signing in (far faster than a CLI
 * process per user). Each may hold one 0.5 GB / 0.5 CPU workspace under the default quota.
 */
export async function createUsers(baseUrl: string, adminToken: string, n: number, prefix: string): Promise<Seeded[]> {
  return inPool(Array.from({ length: n }, (_, i) => i), 4, async (i) => {
    const email = `${prefix}-${i}-${crypto.randomBytes(3).toString("hex")}@gantry.test`;
    const password = "password-" + crypto.randomBytes(8).toString("hex");
    const made = await callApi(baseUrl, "/api/admin/users", { token: adminToken, json: { email, name: `${prefix} ${i}`, password } });
    if (made.status !== 201) throw new Error(`POST /api/admin/users answered ${made.status}: ${made.text}`);
    return { email, id: made.body.id as string, token: await createTokenByLogin(baseUrl, email, password) };
  });
}

/** Turns metrics on (a metrics token made by the admin under Host settings) and returns the token. */
export async function enableMetrics(baseUrl: string, adminToken: string): Promise<string> {
  const res = await callApi(baseUrl, "/api/admin/settings/metrics-token", { token: adminToken, method: "POST" });
  if (res.status !== 201) throw new Error(`POST /api/admin/settings/metrics-token answered ${res.status}: ${res.text}`);
  return res.body.token as string;
}

/** gantry_event_stream_clients, read from GET /metrics. */
export async function openStreamGauge(baseUrl: string, metricsToken: string): Promise<number> {
  const res = await callApi(baseUrl, "/metrics", { token: metricsToken });
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${res.text.slice(0, 300)}`);
  const m = /^gantry_event_stream_clients (\S+)$/m.exec(res.text);
  if (!m) throw new Error("no gantry_event_stream_clients in /metrics");
  return Number(m[1]);
}

/** How many 0.5-CPU workspaces the host holds at once with no host reserve (4 on the 2-core CI machine). */
export async function hostSlots(): Promise<number> {
  const info = (await new Docker().info()) as { NCPU: number };
  return Math.max(1, Math.floor(info.NCPU / 0.5));
}

export type Client = { user: Seeded; stream: EventStream };

/** `perUser` streams for each user, all open (each has said hello) when this resolves. */
export async function openClients(baseUrl: string, users: Seeded[], perUser: number): Promise<Client[]> {
  const wanted = users.flatMap((user) => Array.from({ length: perUser }, () => user));
  return inPool(wanted, 20, async (user) => ({ user, stream: await openEvents(baseUrl, user.token) }));
}

export type Change = { user: Seeded; workspaceId: string; launchedAt: number; stoppedAt: number };

/**
 * Each user launches a small busybox workspace and stops it, `slots` at a time (what the host's CPUs hold). Returns
 * when every launch and stop has answered.
 */
export async function launchAndStop(baseUrl: string, users: Seeded[], imageId: string, slots: number, name = "fanout"): Promise<Change[]> {
  return inPool(users, slots, async (user, i) => {
    const launched = await callApi(baseUrl, "/api/workspaces", { token: user.token, json: { name: `${name}-${i}`, imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
    if (launched.status !== 201) throw new Error(`launch for ${user.email} answered ${launched.status}: ${launched.text}`);
    const launchedAt = Date.now();
    const stopped = await callApi(baseUrl, `/api/workspaces/${launched.body.id}/stop`, { token: user.token, json: {} });
    if (stopped.status !== 200) throw new Error(`stop for ${user.email} answered ${stopped.status}: ${stopped.text}`);
    return { user, workspaceId: launched.body.id as string, launchedAt, stoppedAt: Date.now() };
  });
}

/** The statuses, in order of arrival, of one workspace's `workspace` events on a stream. */
export function statusesOf(stream: EventStream, workspaceId: string): string[] {
  return stream.events.filter((e) => e.event === "workspace" && e.data?.workspaceId === workspaceId).map((e) => e.data.workspace?.status as string);
}

/**
 * Everything on a user's stream that is not about that user: an event naming another user, a workspace the user does
 * not own, or a workspace view of someone else's. Empty when the stream is clean.
 */
export function foreignEvents(client: Client, ownWorkspaces: Set<string>): string[] {
  const bad: string[] = [];
  for (const e of client.stream.events) {
    const d = e.data ?? {};
    const ok =
      e.event === "hello"
        ? d.userId === client.user.id
        : d.userId === client.user.id &&
          (d.workspaceId === undefined || ownWorkspaces.has(d.workspaceId)) &&
          (d.workspace === undefined || (d.workspace.userId === client.user.id && d.workspace.owner?.id === client.user.id));
    if (!ok) bad.push(`${e.event} ${JSON.stringify(d).slice(0, 300)}`);
  }
  return bad;
}
