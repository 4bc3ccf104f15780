// `npm run bench` (sixth part): many dashboards open. BENCH_SSE_USERS users (default 50) with BENCH_SSE_PER_USER event
// streams each (default 2, i.e. 100 streams) and one admin stream, while BENCH_SSE_OWNERS of them (default 20) each
// launch and stop a busybox workspace, as many at once as the host's CPUs hold (4 on the 2-core machine).
//
// Prints:
// - delivery latency p50/p95/max of the owners' `workspace` events, from the status's write in the database (the
//   event's own `workspace.updatedAt`, Prisma's timestamp, taken in the server before it reloads the row and
//   publishes) to the moment this process parsed the event off the stream (same host, same clock). It includes the
//   reload, the fan-out, the HTTP write and this client's own parsing of 101 streams: an upper bound on the fan-out.
// - the events each stream got, and cross-user leaks (any event on a user's stream about someone else; must be 0).
// - the server's CPU in % of one core (utime + stime of every process with this server's GANTRY_DATA_DIR) over the
//   same launches and stops done first with no stream open and then with all streams open: the difference is what
//   the fan-out costs; and its RSS before, with the streams open, and after they left.
// - how long after the streams disconnect gantry_event_stream_clients is back to its baseline.
import fs from "node:fs";
import os from "node:os";
import { cli } from "../tests/helpers/run-cli";
import { QUICK_STOP_COMMAND, removeUsersDockerResources } from "../tests/helpers/gantry-api";
import { createUsers, enableMetrics, foreignEvents, hostSlots, launchAndStop, openClients, openStreamGauge, statusesOf, type Change } from "../tests/helpers/event-fanout";
import { openEvents, type Seeded } from "../tests/helpers/workspaces";
import { runBench, type BenchEnv } from "./harness";

const USERS = Number(process.env.BENCH_SSE_USERS ?? 50);
const PER_USER = Number(process.env.BENCH_SSE_PER_USER ?? 2);
const OWNERS = Number(process.env.BENCH_SSE_OWNERS ?? 20);
const BUSYBOX = process.env.BENCH_BUSYBOX_IMAGE ?? "gantry/test-busybox:1";
const TICK = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux
for (const [name, v] of Object.entries({ USERS, PER_USER, OWNERS })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`BENCH_SSE_${name} must be a positive whole number, got ${v}`);
}
if (OWNERS > USERS) throw new Error("BENCH_SSE_OWNERS must not exceed BENCH_SSE_USERS");

let made: Seeded[] = [];

/** The server's processes (every one started with its data dir): CPU seconds so far and resident memory. */
function serverProcesses(dataDir: string): { cpuSeconds: number; rssMb: number; pids: number } {
  const out = { cpuSeconds: 0, rssMb: 0, pids: 0 };
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/environ`, "utf8").includes(`GANTRY_DATA_DIR=${dataDir}\0`)) continue;
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.cpuSeconds += (Number(f[11]) + Number(f[12])) / TICK;
      const rss = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (rss) out.rssMb += Number(rss[1]) / 1024;
      out.pids++;
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** CPU % of one core that the server spent while `fn` ran. */
async function cpuDuring<T>(dataDir: string, fn: () => Promise<T>): Promise<{ value: T; percent: number; seconds: number }> {
  const a = serverProcesses(dataDir).cpuSeconds;
  const t0 = performance.now();
  const value = await fn();
  // The last stop's events are written just before its answer: give them a moment to be sent.
  await new Promise((r) => setTimeout(r, 500));
  const seconds = (performance.now() - t0) / 1000;
  return { value, percent: ((serverProcesses(dataDir).cpuSeconds - a) / seconds) * 100, seconds };
}

function percentile(xs: number[], p: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const spread = (xs: number[]) => (xs.length ? `min ${Math.min(...xs)}, median ${percentile(xs, 50)}, max ${Math.max(...xs)}` : "none");

async function measure({ server, adminToken }: BenchEnv): Promise<void> {
  const url = server.url;
  const added = await cli(server.dataDir, ["image", "add", "--name", "busybox", "--ref", BUSYBOX, "--command", QUICK_STOP_COMMAND]);
  const imageId = /\(([^()\s]+)\)\s*$/.exec(added.trim())?.[1];
  if (!imageId) throw new Error(`gantry image add printed no id: ${added}`);
  const metricsToken = await enableMetrics(url, adminToken);
  const slots = await hostSlots();
  console.log(`Making ${USERS} users …`);
  made = await createUsers(url, adminToken, USERS, "bench-sse");
  const owners = made.slice(0, OWNERS);

  // Round 1, no stream open: what the launches and stops cost the server by themselves (and a warm-up).
  const quiet = await cpuDuring(server.dataDir, () => launchAndStop(url, owners, imageId, slots, "quiet"));
  const rssBefore = serverProcesses(server.dataDir).rssMb;

  const baseline = await openStreamGauge(url, metricsToken);
  const admin = await openEvents(url, adminToken);
  const clients = await openClients(url, made, PER_USER);
  const open = await openStreamGauge(url, metricsToken);
  await new Promise((r) => setTimeout(r, 2000));
  const rssOpen = serverProcesses(server.dataDir).rssMb;

  // Round 2, every stream open: the same launches and stops, with their events fanned out.
  const loud = await cpuDuring(server.dataDir, () => launchAndStop(url, owners, imageId, slots, "loud"));
  const changes: Change[] = loud.value;

  const latencies: number[] = [];
  let missing = 0;
  for (const { user, workspaceId } of changes) {
    for (const c of clients.filter((x) => x.user.id === user.id)) {
      const statuses = statusesOf(c.stream, workspaceId);
      if (!statuses.includes("running") || !statuses.includes("stopped")) missing++;
      for (const e of c.stream.events) {
        if (e.event === "workspace" && e.data.workspaceId === workspaceId) latencies.push(e.at - Date.parse(e.data.workspace.updatedAt));
      }
    }
  }
  const ownWorkspaces = new Map(made.map((u) => [u.id, new Set(changes.filter((c) => c.user.id === u.id).map((c) => c.workspaceId))]));
  const leaks = clients.reduce((n, c) => n + foreignEvents(c, ownWorkspaces.get(c.user.id)!).length, 0);
  const counts = (which: (u: Seeded) => boolean) => clients.filter((c) => which(c.user)).map((c) => c.stream.events.filter((e) => e.event !== "hello").length);
  const isOwner = (u: Seeded) => (ownWorkspaces.get(u.id)?.size ?? 0) > 0;
  const adminSaw = admin.events.filter((e) => e.event === "workspace" && changes.some((c) => c.workspaceId === e.data.workspaceId)).length;

  const t0 = performance.now();
  for (const c of clients) c.stream.close();
  admin.close();
  let gaugeAfter = await openStreamGauge(url, metricsToken);
  while (gaugeAfter !== baseline && performance.now() - t0 < 30_000) {
    await new Promise((r) => setTimeout(r, 50));
    gaugeAfter = await openStreamGauge(url, metricsToken);
  }
  const freedMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  const rssAfter = serverProcesses(server.dataDir).rssMb;

  const streams = clients.length;
  console.log("");
  console.log(`SSE fan-out: ${streams} streams (${PER_USER} each for ${USERS} users) + 1 admin stream; ${OWNERS} users launch and stop a workspace, ${slots} at a time.`);
  console.log(`Delivery, status written -> parsed by the client (${latencies.length} events on owners' streams): p50 ${percentile(latencies, 50)} ms, p95 ${percentile(latencies, 95)} ms, max ${Math.max(...latencies)} ms`);
  console.log(`Events per stream: owners' ${spread(counts(isOwner))}; other users' ${spread(counts((u) => !isOwner(u)))}; the admin's stream ${adminSaw} about these workspaces.`);
  console.log(`Owners' streams missing a running or stopped: ${missing}. Cross-user leaks: ${leaks} (must be 0).`);
  console.log(`Server CPU over the launches and stops: ${loud.percent.toFixed(1)}% of one core with the streams open (${loud.seconds.toFixed(1)} s), ${quiet.percent.toFixed(1)}% without (${quiet.seconds.toFixed(1)} s): the fan-out ${(loud.percent - quiet.percent).toFixed(1)} points.`);
  console.log(`Server RSS: ${rssBefore.toFixed(0)} MB before, ${rssOpen.toFixed(0)} MB with ${streams + 1} streams open, ${rssAfter.toFixed(0)} MB after they left.`);
  console.log(`Load average of the machine meanwhile: ${os.loadavg().map((x) => x.toFixed(1)).join(" / ")} (1/5/15 min, ${os.cpus().length} cores).`);
  console.log(`gantry_event_stream_clients: ${baseline} -> ${open} with the streams open -> ${gaugeAfter} ${freedMs.toFixed(0)} ms after they disconnected.`);
  if (leaks > 0 || missing > 0 || gaugeAfter !== baseline || open !== baseline + streams + 1) process.exitCode = 1;
}

void runBench("sse-fanout", measure, async () => {
  await removeUsersDockerResources(made.map((u) => u.id));
});
