// `npm run bench` (part): pages and lists with a team's worth of data. 200 users, 1000 workspaces, 20 000 usage
// intervals and 100 000 audit events seeded (bench/seed-scale.ts) into a fresh server's database, then each page or
// API call below asked 200 times in a row (after 20 unmeasured), p50/p95/max printed against the goal.
// `npx next build` first; run with `npx tsx bench/scale.ts`.
import { runBench, type BenchEnv } from "./harness";
import { seedScale, SEED_DEFAULTS, SEED_PASSWORD } from "./seed-scale";
import { login, type Session } from "../tests/helpers/http-session";
import { createTokenWithCli } from "../tests/helpers/run-cli";

const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 200);
const WARMUP = 20;

type Probe = { label: string; goalMs: number | null; ask: () => Promise<Response> };

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function measure(probe: Probe): Promise<{ p50: number; p95: number; max: number; bytes: number }> {
  let bytes = 0;
  const once = async () => {
    const t0 = performance.now();
    const res = await probe.ask();
    const body = await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`${probe.label}: HTTP ${res.status}: ${Buffer.from(body).toString().slice(0, 300)}`);
    bytes = body.byteLength;
    return ms;
  };
  for (let i = 0; i < WARMUP; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < ROUNDS; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95), max: times[times.length - 1], bytes };
}

async function body({ server, adminToken }: BenchEnv): Promise<void> {
  const t0 = Date.now();
  const { emails } = await seedScale(server.dataDir, SEED_DEFAULTS);
  console.log(`Seeded ${SEED_DEFAULTS.users} users, ${SEED_DEFAULTS.workspaces} workspaces, ${SEED_DEFAULTS.intervals} usage intervals, ${SEED_DEFAULTS.auditEvents} audit events in ${((Date.now() - t0) / 1000).toFixed(1)} s.`);
  const userEmail = emails[0];
  const userToken = await createTokenWithCli(server.dataDir, userEmail, "bench-scale");
  const signIn = async (email: string, password: string): Promise<Session> => {
    const r = await login(server.url, email, password);
    if (!r.ok) throw new Error(`cannot sign in as ${email}`);
    return r.session;
  };
  const user = await signIn(userEmail, SEED_PASSWORD);
  const admin = await signIn("admin@gantry.bench", "bench-admin-password");
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const get = (path: string, token: string) => () => fetch(server.url + path, bearer(token));
  const firstAudit = (await (await get("/api/admin/audit?pageSize=50", adminToken)()).json()) as { nextCursor?: string | null };

  const probes: Probe[] = [
    { label: "GET / (a user's home page)", goalMs: 50, ask: () => user.fetch("/") },
    { label: "GET /settings (for comparison)", goalMs: null, ask: () => user.fetch("/settings") },
    { label: "GET /api/workspaces (one user's 5)", goalMs: 30, ask: get("/api/workspaces", userToken) },
    { label: "GET /api/workspaces?all=1 (all 1000)", goalMs: 60, ask: get("/api/workspaces?all=1", adminToken) },
    { label: "GET /api/admin/users (200)", goalMs: 60, ask: get("/api/admin/users", adminToken) },
    { label: "GET /api/admin/audit (first 50 of 100k)", goalMs: 60, ask: get("/api/admin/audit?pageSize=50", adminToken) },
    ...(firstAudit.nextCursor
      ? [{ label: "GET /api/admin/audit?cursor= (next 50)", goalMs: 60, ask: get(`/api/admin/audit?pageSize=50&cursor=${encodeURIComponent(firstAudit.nextCursor)}`, adminToken) }]
      : []),
    { label: "GET /api/admin/audit?page=1000 (events 49 951-50 000)", goalMs: 60, ask: get("/api/admin/audit?pageSize=50&page=1000", adminToken) },
    { label: "GET /admin/users (page, 200 users)", goalMs: null, ask: () => admin.fetch("/admin/users") },
    { label: "GET /admin/quotas (page)", goalMs: null, ask: () => admin.fetch("/admin/quotas") },
    { label: "GET /admin/audit (page)", goalMs: null, ask: () => admin.fetch("/admin/audit") },
  ];

  console.log(`\n${ROUNDS} sequential requests each, one client:`);
  console.log(`${"".padEnd(52)} ${"p50 ms".padStart(8)} ${"p95 ms".padStart(8)} ${"max ms".padStart(8)} ${"KB".padStart(7)}  goal (p95)`);
  let missed = 0;
  for (const probe of probes) {
    const r = await measure(probe);
    const verdict = probe.goalMs === null ? "" : r.p95 <= probe.goalMs ? `≤ ${probe.goalMs} ms: met` : `≤ ${probe.goalMs} ms: MISSED`;
    if (probe.goalMs !== null && r.p95 > probe.goalMs) missed++;
    console.log(`${probe.label.padEnd(52)} ${r.p50.toFixed(1).padStart(8)} ${r.p95.toFixed(1).padStart(8)} ${r.max.toFixed(1).padStart(8)} ${(r.bytes / 1024).toFixed(0).padStart(7)}  ${verdict}`);
  }
  console.log(missed ? `\n${missed} goal(s) missed.` : "\nEvery goal met.");
}

await runBench("scale", body);
