// `npm run bench:load`: many users going through a workspace's whole life at once, against the real engine.
//
// Starts its own Gantry server (see harness.ts) with LOAD_USERS users (default 50: the harness's user and the rest
// made through the admin API, each signed in once to make an API token). Each may hold one workspace of 0.5 GB and
// 0.5 CPUs; LOAD_GPU_USERS of them (default 16) ask for LOAD_GPUS_EACH GPUs (default 3) of the 8 that the stand-in
// nvidia-smi reports, so GPUs run out and launches are refused with a 409 now and then. Then for LOAD_SECONDS
// (default 300) autocannon drives one connection per user through, over and over:
//   launch  POST /api/workspaces (answers once the container runs)
//   open    GET  /w/<id>/api/status through the workspace proxy, with the user's API token (what a Jupyter client
//                does; a browser's Open ends at the same proxy after the grant handshake)
//   stop    POST /api/workspaces/<id>/stop
//   start   POST /api/workspaces/<id>/start
//   reset   POST /api/workspaces/<id>/reset
//   delete  DELETE /api/workspaces/<id>
// A refused launch (quota, capacity, GPUs: 4xx) starts the user over. Each user sends at most LOAD_RATE requests a
// second (default 1, autocannon's connectionRate), so the users refused on a full host retry once a second rather
// than in a tight loop. Autocannon keeps one target per connection, and the dashboard and the proxy are two origins:
// the bench puts a path-routing reverse proxy (http-proxy-3, as Gantry's own proxy uses) in front of both, as a
// deployment behind nginx or Caddy has; it adds a loopback hop to every request.
//
// Meanwhile every LOAD_CHECK_SECONDS (default 20) it checks the lifecycle's invariants (tests/helpers/invariants.ts,
// as the race tests do) for the users that are quiet: nothing of theirs in transition before and after the look, and
// none of their requests from 400 ms before it to its end changed anything (only opens and 4xx refusals); and, for
// everyone at every check, that no GPU is in two containers that run throughout the check. At the end, once everything has settled, all users are
// checked. Prints per call: count, p50/p95/max latency and the statuses; exits non-zero on any 5xx, request error or
// timeout, or invariant violation. Every container, volume and user it made is removed, also on failure or Ctrl-C.
import http from "node:http";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { createProxyServer } from "http-proxy-3";
import { createTokenByLogin, removeUsersDockerResources } from "../tests/helpers/gantry-api";
import { lifecycleViolations, settled, waitSettled } from "../tests/helpers/invariants";
import { RUN_ID, api, docker, expectStatus, runBench } from "./harness";

function wholeEnv(name: string, fallback: number, min = 0): number {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}, got ${process.env[name]}`);
  return n;
}

const SECONDS = wholeEnv("LOAD_SECONDS", 300, 1);
const USERS = wholeEnv("LOAD_USERS", 50, 1);
const GPU_USERS = Math.min(USERS, wholeEnv("LOAD_GPU_USERS", 16));
const GPUS_EACH = wholeEnv("LOAD_GPUS_EACH", 3, 1);
const RATE = wholeEnv("LOAD_RATE", 1, 1);
const CHECK_SECONDS = wholeEnv("LOAD_CHECK_SECONDS", 20, 1);
const MEMORY_GB = 0.5;
const CPUS = 0.5;
/** The race tests let the engine's events reach the reconciler for this long before they look. */
const QUIET_MS = 400;

const CALLS = ["launch", "open", "stop", "start", "reset", "delete"] as const;
type Call = (typeof CALLS)[number] | "delete leftover";

type LoadUser = {
  n: number;
  id: string;
  token: string;
  gpus: number;
  /** The workspace this user holds now, if any. */
  ws: string | null;
  loops: number;
  inFlight: boolean;
  sentAt: number;
  /** When the last request was sent or answered (performance.now()). */
  lastActivity: number;
  /** Bumped on every request sent and every answer. */
  activity: number;
  /** The call of the request in flight (or last sent). */
  current: Call;
  /** The last requests sent, with their answers. */
  sent: Sent[];
  /** Every workspace this user has had. */
  workspaceIds: Set<string>;
};

type Sent = { call: Call; sentAt: number; answeredAt: number | null; status: number | null };

class Stats {
  private readonly latencies = new Map<Call, number[]>();
  private readonly statuses = new Map<Call, Map<number, number>>();
  readonly unexpected: string[] = [];
  /** Requests still in flight when autocannon stopped at the end of the duration. */
  unanswered = 0;

  record(call: Call, status: number, ms: number): void {
    if (!this.latencies.has(call)) this.latencies.set(call, []);
    this.latencies.get(call)!.push(ms);
    const byStatus = this.statuses.get(call) ?? new Map<number, number>();
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    this.statuses.set(call, byStatus);
  }

  count5xx(): number {
    let n = 0;
    for (const byStatus of this.statuses.values()) for (const [s, c] of byStatus) if (s >= 500) n += c;
    return n;
  }

  table(): string[] {
    const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
    const lines = [`${"call".padEnd(16)}${"count".padStart(7)}${"p50 ms".padStart(9)}${"p95 ms".padStart(9)}${"max ms".padStart(9)}  statuses`];
    for (const call of [...CALLS, "delete leftover"] as Call[]) {
      const xs = this.latencies.get(call);
      if (!xs) continue;
      const sorted = [...xs].sort((a, b) => a - b);
      const statuses = [...this.statuses.get(call)!].sort(([a], [b]) => a - b).map(([s, c]) => `${s}×${c}`).join(" ");
      lines.push(`${call.padEnd(16)}${String(xs.length).padStart(7)}${pct(sorted, 50).toFixed(0).padStart(9)}${pct(sorted, 95).toFixed(0).padStart(9)}${sorted[sorted.length - 1].toFixed(0).padStart(9)}  ${statuses}`);
    }
    return lines;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The users made here, for the clean-up (the harness removes its own user's containers and volume). */
const madeUserIds: string[] = [];

/** Dashboard paths to Gantry's dashboard, /w/… to its workspace proxy: one origin for autocannon's connections. */
function startFront(dashboardPort: number, proxyPort: number): Promise<{ server: http.Server; url: string; errors: string[] }> {
  const errors: string[] = [];
  const proxy = createProxyServer({ xfwd: false, proxyTimeout: 0 });
  // A connection per request: a kept-alive one may be closed by Gantry's server (its keep-alive timeout) just as the
  // front sends on it, and the front would answer that 502 itself.
  const agent = new http.Agent({ keepAlive: false });
  proxy.on("error", (err, _req, res) => {
    errors.push(err.message);
    if (res && "writeHead" in res && !res.headersSent) (res as http.ServerResponse).writeHead(502).end();
  });
  const server = http.createServer((req, res) => {
    const port = req.url?.startsWith("/w/") ? proxyPort : dashboardPort;
    proxy.web(req, res, { target: `http://127.0.0.1:${port}`, agent });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, errors })));
}

/** The requests one user repeats, as an autocannon sequence; each answer is recorded under its call's name. */
function flowOf(u: LoadUser, imageId: string, stats: Stats): autocannon.Request[] {
  const auth = { authorization: `Bearer ${u.token}` };
  const step = (call: Call, build: () => Partial<autocannon.Request> | null, ok: (status: number, body: string) => void): autocannon.Request => ({
    setupRequest: (req) => {
      u.current = call;
      const r = build();
      if (!r) return null as unknown as autocannon.Request;
      return { ...req, ...r };
    },
    onResponse: (status, body) => {
      const call = u.current;
      u.inFlight = false;
      u.lastActivity = performance.now();
      u.activity++;
      const entry = u.sent[u.sent.length - 1];
      if (entry) Object.assign(entry, { call, answeredAt: u.lastActivity, status });
      stats.record(call, status, u.lastActivity - u.sentAt);
      if (status >= 500) stats.unexpected.push(`${call} as user ${u.n} answered ${status}: ${body.slice(0, 300)}`);
      ok(status, body);
    },
  });
  const onWs = (method: string, suffix: string) => () => (u.ws ? { method: method as autocannon.Request["method"], path: `/api/workspaces/${u.ws}${suffix}`, headers: auth, body: undefined } : null);
  return [
    step(
      "launch",
      () => {
        // A workspace left over from a loop that did not get to its delete goes first (the quota allows one).
        if (u.ws) {
          u.current = "delete leftover";
          return { method: "DELETE", path: `/api/workspaces/${u.ws}`, headers: auth, body: undefined };
        }
        u.loops++;
        const body = JSON.stringify({ name: `load-${u.loops}`, imageId, gpus: u.gpus, memoryGb: MEMORY_GB, cpus: CPUS });
        return { method: "POST", path: "/api/workspaces", headers: { ...auth, "content-type": "application/json" }, body };
      },
      (status, body) => {
        if (u.current === "delete leftover") {
          if (status === 204 || status === 404) u.ws = null;
        } else if (status === 201) {
          u.ws = JSON.parse(body).id as string;
          u.workspaceIds.add(u.ws);
        }
      },
    ),
    step("open", () => (u.ws ? { method: "GET", path: `/w/${u.ws}/api/status`, headers: { authorization: `token ${u.token}` }, body: undefined } : null), () => {}),
    step("stop", onWs("POST", "/stop"), () => {}),
    step("start", onWs("POST", "/start"), () => {}),
    step("reset", onWs("POST", "/reset"), () => {}),
    step("delete", onWs("DELETE", ""), (status) => {
      if (status === 204 || status === 404) u.ws = null;
    }),
  ];
}

/** Makes the users: the harness's own one and USERS-1 more through the admin API, each with a token and a quota. */
async function makeUsers(env: Parameters<Parameters<typeof runBench>[1]>[0]): Promise<LoadUser[]> {
  const { server, adminToken, user } = env;
  const users: LoadUser[] = [];
  const blank = () => ({ ws: null, loops: 0, inFlight: false, sentAt: 0, lastActivity: 0, activity: 0, current: "launch" as Call, sent: [], workspaceIds: new Set<string>() });
  users.push({ n: 0, id: user.id, token: user.token, gpus: 0, ...blank() });
  const rest = Array.from({ length: USERS - 1 }, (_, i) => i + 1);
  // A few at a time: each sign-in checks a bcrypt hash, which is what takes the time.
  for (let i = 0; i < rest.length; i += 4) {
    await Promise.all(
      rest.slice(i, i + 4).map(async (n) => {
        const email = `load-${RUN_ID}-${n}@gantry.bench`;
        const password = `load-${RUN_ID}-password-${n}`;
        const made = await api(server, "/api/admin/users", adminToken, "POST", { email, password });
        expectStatus(`POST /api/admin/users (${email})`, made, 201);
        madeUserIds.push(made.body.id);
        const token = await createTokenByLogin(server.url, email, password, "load");
        users.push({ n, id: made.body.id, token, gpus: 0, ...blank() });
      }),
    );
  }
  users.sort((a, b) => a.n - b.n);
  // GPU users spread over the list, so that they are not all on the first connections.
  const step = GPU_USERS ? USERS / GPU_USERS : 0;
  for (let k = 0; k < GPU_USERS; k++) users[Math.floor(k * step)].gpus = GPUS_EACH;
  for (const u of users) {
    const quota = { maxGpus: u.gpus, maxMemoryGb: MEMORY_GB, maxCpus: CPUS, maxWorkspaces: 1 };
    expectStatus(`PUT quota of user ${u.n}`, await api(server, `/api/admin/users/${u.id}/quota`, adminToken, "PUT", quota), 200);
  }
  return users;
}

/** Containers of these users that run, with their GPUs, as the engine reports them now. */
async function runningGpus(userIds: Set<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const list = await docker.listContainers({ filters: { label: ["gantry.managed=true"], status: ["running"] } });
  for (const c of list.filter((c) => userIds.has(c.Labels["gantry.user"] ?? ""))) {
    const info = await docker.getContainer(c.Id).inspect().catch(() => null);
    if (!info?.State.Running) continue;
    const reqs = (info.HostConfig as { DeviceRequests?: { DeviceIDs?: string[] }[] }).DeviceRequests ?? [];
    out.set(c.Id, reqs.flatMap((r) => r.DeviceIDs ?? []));
  }
  return out;
}

type CheckResult = { checked: number; violations: string[] };

/** A request changed nothing the invariants look at when it only read (open) or was refused (4xx, before any claim). */
const harmless = (e: Sent) => e.call === "open" || (e.status !== null && e.status >= 400 && e.status < 500);

/**
 * One check while the load runs. GPUs: containers that run in two listings taken before and after every inspect ran
 * throughout, so two of them with one GPU is a violation whatever else is happening. The rest of the invariants as
 * the race tests judge them, once a round has settled: only for users whose workspaces were settled before and after
 * the look, and whose requests from QUIET_MS before it to its end changed nothing (that is known once they are
 * answered, so the verdict waits for those answers).
 */
async function checkDuringLoad(dbFile: string, users: LoadUser[], loadRuns: () => boolean): Promise<CheckResult> {
  const violations: string[] = [];
  const ids = new Set(users.map((u) => u.id));
  const first = await runningGpus(ids);
  const second = await runningGpus(ids);
  const owner = new Map<string, string>();
  for (const [id, gpus] of first) {
    if (!second.has(id)) continue;
    for (const g of gpus) {
      if (owner.has(g)) violations.push(`GPU ${g} is in two running containers (${owner.get(g)!.slice(0, 12)} and ${id.slice(0, 12)})`);
      owner.set(g, id);
    }
  }

  const start = performance.now();
  const candidates = users.filter((u) => settled(dbFile, [u.id]));
  const found = candidates.length ? await lifecycleViolations(dbFile, candidates.map((u) => u.id)) : [];
  const end = performance.now();
  const settledAfter = new Set(candidates.filter((u) => settled(dbFile, [u.id])).map((u) => u.id));
  const inWindow = (u: LoadUser) => u.sent.filter((e) => e.sentAt <= end && (e.answeredAt === null || e.answeredAt >= start - QUIET_MS));
  // Once autocannon has stopped, what was in flight gets no answer: those users are then not judged.
  while (loadRuns() && candidates.some((u) => inWindow(u).some((e) => e.answeredAt === null))) await sleep(250);
  const judged = candidates.filter((u) => settledAfter.has(u.id) && inWindow(u).every((e) => e.answeredAt !== null && harmless(e)));
  for (const v of found) {
    const about = candidates.find((u) => v.includes(u.id) || [...u.workspaceIds].some((w) => v.includes(w)));
    // Someone who was busy during the look is not judged this time; a finding that names no one counts.
    if (!about || judged.includes(about)) violations.push(v);
  }
  return { checked: judged.length, violations };
}

void runBench(
  "load",
  async (env) => {
    const { server, imageId } = env;
    const dbFile = path.join(server.dataDir, "gantry.db");
    console.log(`Making ${USERS} users (${GPU_USERS} asking for ${GPUS_EACH} GPUs each) …`);
    const t0 = performance.now();
    const users = await makeUsers(env);
    console.log(`… in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
    const front = await startFront(server.port, server.proxyPort);
    const stats = new Stats();

    let next = 0;
    let finished!: (err: Error | null, result: autocannon.Result) => void;
    const done = new Promise<autocannon.Result>((resolve, reject) => (finished = (err, result) => (err ? reject(err) : resolve(result))));
    const instance = autocannon({
      url: front.url,
      connections: USERS,
      duration: SECONDS,
      connectionRate: RATE,
      // A launch waits for its container; on a busy engine that can take a while. A timeout would lose the answer.
      timeout: 180,
      setupClient: (client) => {
        const u = users[next++];
        client.setRequests(flowOf(u, imageId, stats));
        // Typed without it, but every client emits "request" as it sends one.
        (client as unknown as NodeJS.EventEmitter).on("request", () => {
          u.inFlight = true;
          u.sentAt = performance.now();
          u.lastActivity = u.sentAt;
          u.activity++;
          u.sent.push({ call: u.current, sentAt: u.sentAt, answeredAt: null, status: null });
          if (u.sent.length > 30) u.sent.splice(0, u.sent.length - 30);
        });
      },
    }, (err, result) => finished(err, result));
    process.once("SIGINT", () => instance.stop());

    let checks = 0;
    let checkedUsers = 0;
    const violations: string[] = [];
    let running = true;
    const checker = (async () => {
      while (running) {
        for (let waited = 0; running && waited < CHECK_SECONDS * 1000; waited += 250) await sleep(250);
        if (!running) break;
        const r = await checkDuringLoad(dbFile, users, () => running);
        checks++;
        checkedUsers += r.checked;
        violations.push(...r.violations.map((v) => `check ${checks}: ${v}`));
        const holding = users.filter((u) => u.ws).length;
        console.log(`[${((performance.now() - t0) / 1000).toFixed(0)} s] check ${checks}: GPUs of all, the rest for ${r.checked} quiet users, ${r.violations.length} violations; ${holding} users hold a workspace; 5xx so far ${stats.count5xx()}`);
      }
    })();

    const result = await done;
    running = false;
    for (const u of users) if (u.inFlight) stats.unanswered++;
    await checker;

    // Autocannon stops its connections mid-request: let what was under way finish, then judge everyone.
    const ids = users.map((u) => u.id);
    await waitSettled(dbFile, ids, 180_000);
    await sleep(QUIET_MS);
    await waitSettled(dbFile, ids, 60_000);
    const finalViolations = await lifecycleViolations(dbFile, ids);
    checks++;
    checkedUsers += ids.length;
    violations.push(...finalViolations.map((v) => `final check: ${v}`));

    const total5xx = stats.count5xx();
    const loops = users.reduce((n, u) => n + u.loops, 0);
    console.log("");
    console.log(`${USERS} users (${GPU_USERS} with ${GPUS_EACH} GPUs each of 8) for ${SECONDS} s, ≤ ${RATE} request/s each, ${MEMORY_GB} GB and ${CPUS} CPUs a workspace; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}:`);
    for (const line of stats.table()) console.log(line);
    console.log(`requests ${result.requests.total} (autocannon), loops begun ${loops}; request errors ${result.errors}, timeouts ${result.timeouts}, cut off at the end ${stats.unanswered}; front proxy errors ${front.errors.length}`);
    console.log(`5xx answers: ${total5xx}`);
    console.log(`invariant checks: ${checks} (${checkedUsers} user checks, the last one of all ${USERS} users once settled), violations: ${violations.length}`);
    for (const line of stats.unexpected.slice(0, 20)) console.log(`  5xx: ${line}`);
    for (const v of violations.slice(0, 20)) console.log(`  violation: ${v}`);
    front.server.close();
    if (total5xx || violations.length || result.errors || result.timeouts || front.errors.length) {
      console.error("FAILED: 5xx answers, request errors or invariant violations (above).");
      process.exitCode = 1;
    }
  },
  // The harness removes its own user's containers and volume; these are the other users'.
  () => removeUsersDockerResources(madeUserIds),
);
