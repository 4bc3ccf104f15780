import http from "node:http";
import { generateEd25519 } from "../../lib/ssh/generate-key";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoverRoutes, fillPattern, type HttpMethod, type RouteExport, type RouteFile } from "../helpers/route-files";
import {
  BUSYBOX_IMAGE,
  SETUP_TIMEOUT_MS,
  docker,
  expectErrorShape,
  expectNoSecrets,
  rand,
  rawRequest,
  serverLog,
  startSecurityEnv,
  type Answer,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// The route walker. Every route handler under app/ is found on disk, its URL derived from its path and its
// methods and guards read from its source; then every method is called with no credentials, as a user, as another
// user on the first user's resources, as an admin, with Next.js's middleware-bypass header, and with hostile bodies.
// A route added without a guard, or with a guard this suite does not expect, fails here.

const ROUTES = discoverRoutes();

/** The only routes anyone may call: health, and the catch-all that answers unknown API paths with a JSON 404. */
const PUBLIC_ALLOWED = new Set(["GET /api/health", "* /api/[...slug]"]);
/** Routes outside app/api that do their own authentication (checked for behaviour below). */
const OWN_AUTH_ALLOWED = new Set(["GET /open/[id]", "GET /metrics"]);
const NEXT_AUTH = "/api/auth/[...nextauth]";
const STATE_CHANGING = new Set<HttpMethod>(["POST", "PUT", "PATCH", "DELETE"]);
const CALLABLE: HttpMethod[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

type Call = { route: RouteFile; exp: RouteExport };

function calls(filter: (c: Call) => boolean = () => true): Call[] {
  return ROUTES.flatMap((route) => route.exports.map((exp) => ({ route, exp }))).filter(filter);
}
const isGuarded = (c: Call) => c.exp.guard === "withUser" || c.exp.guard === "withAdmin";
const hasId = (c: Call) => c.route.params.some((p) => !p.catchAll);
const label = (c: Call) => `${c.exp.method} ${c.route.pattern}`;

let env: SecurityEnv;
let victim: Principal;
let mallory: Principal;
let sacrifice: Principal;
let target: Principal;
let busyboxId: string;
let sacrificeImageId: string;
let victimWs: { id: string; containerId: string; startedAt: string };
let sacrificeWsId: string;
let spareAdminTokenId: string;
let victimSshKeyId: string;
let spareAdminSshKeyId: string;

type Who = "victim-resources" | "admin-resources";

/** A real id of the right kind for each dynamic segment; a segment this table does not know fails the suite. */
function idsFor(route: RouteFile, who: Who): Record<string, string> {
  const values: Record<string, string> = {};
  for (const p of route.params) {
    const key = `${p.after}/[${p.catchAll ? "..." : ""}${p.name}]`;
    const table: Record<string, Record<Who, string>> = {
      "workspaces/[id]": { "victim-resources": victimWs.id, "admin-resources": sacrificeWsId },
      "open/[id]": { "victim-resources": victimWs.id, "admin-resources": sacrificeWsId },
      "tokens/[id]": { "victim-resources": victim.tokenId, "admin-resources": spareAdminTokenId },
      "ssh-keys/[id]": { "victim-resources": victimSshKeyId, "admin-resources": spareAdminSshKeyId },
      "users/[id]": { "victim-resources": victim.id, "admin-resources": sacrifice.id },
      "images/[id]": { "victim-resources": busyboxId, "admin-resources": sacrificeImageId },
      "api/[...slug]": { "victim-resources": "no-such-route/x", "admin-resources": "no-such-route/x" },
    };
    const v = table[key]?.[who];
    if (v === undefined) throw new Error(`the route walker has no id for ${key} in ${route.file}: add one to idsFor()`);
    values[p.name] = v;
  }
  return values;
}

function urlOf(c: Call | RouteFile, who: Who = "victim-resources"): string {
  const route = "route" in c ? c.route : c;
  return fillPattern(route, idsFor(route, who));
}

async function victimWorkspace(): Promise<{ status: string; containerId: string }> {
  const res = await env.req(`/api/workspaces/${victimWs.id}`, { token: victim.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

/** The victim's workspace still runs in the very same container, never restarted, and their token still works. */
async function expectVictimUntouched(): Promise<void> {
  const ws = await victimWorkspace();
  expect({ status: ws.status, containerId: ws.containerId }).toEqual({ status: "running", containerId: victimWs.containerId });
  const info = await env.inspect(victimWs.containerId);
  expect({ running: info.State.Running, startedAt: info.State.StartedAt, restarts: info.RestartCount }).toEqual({
    running: true,
    startedAt: victimWs.startedAt,
    restarts: 0,
  });
  const me = await env.req("/api/me", { token: victim.token });
  expect(me.status).toBe(200);
  const tokens = await env.req<{ id: string }[]>("/api/tokens", { token: victim.token });
  expect(tokens.body.map((t) => t.id)).toContain(victim.tokenId);
  const keys = await env.req<{ id: string }[]>("/api/me/ssh-keys", { token: victim.token });
  expect(keys.body.map((k) => k.id)).toContain(victimSshKeyId);
}

/** A fresh ed25519 public key line (ssh2 makes it; no files). */
function newPublicKey(): string {
  return generateEd25519().public;
}

/** What admins can see and change, to compare before and after a pass that must change nothing. */
async function adminSnapshot(): Promise<unknown> {
  const get = async (path: string) => {
    const res = await env.req(path, { token: env.admin.token });
    expect(res.status, `${path}: ${res.text}`).toBe(200);
    return res.body;
  };
  const users = (await get("/api/admin/users")) as { id: string; email: string; role: string; disabled: boolean; quota: unknown }[];
  const workspaces = (await get("/api/workspaces?all=1")) as { id: string; status: string; containerId: string; userId: string }[];
  return {
    users: users.map((u) => ({ id: u.id, email: u.email, role: u.role, disabled: u.disabled, quota: u.quota })),
    images: await get("/api/admin/images"),
    settings: await get("/api/admin/settings"),
    gpus: await get("/api/admin/gpus"),
    auditTotal: ((await get("/api/admin/audit?pageSize=1")) as { total: number }).total,
    workspaces: workspaces.map((w) => ({ id: w.id, status: w.status, containerId: w.containerId, userId: w.userId })),
  };
}

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-routes-" });
  busyboxId = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
  sacrificeImageId = await env.addImage(`sacrifice-${rand()}`, BUSYBOX_IMAGE);
  victim = await env.createUser("victim");
  mallory = await env.createUser("mallory");
  sacrifice = await env.createUser("sacrifice");
  target = await env.createUser("target");
  spareAdminTokenId = (await env.newToken(env.admin, "spare")).id;
  const victimKey = await env.req("/api/me/ssh-keys", { token: victim.token, json: { name: "victim", publicKey: newPublicKey() } });
  expect(victimKey.status, victimKey.text).toBe(201);
  victimSshKeyId = victimKey.body.id;
  const adminKey = await env.req("/api/me/ssh-keys", { token: env.admin.token, json: { name: "spare", publicKey: newPublicKey() } });
  expect(adminKey.status, adminKey.text).toBe(201);
  spareAdminSshKeyId = adminKey.body.id;

  const v = await env.launch(victim, { name: "victim-ws", imageId: busyboxId });
  expect(v.status, v.text).toBe(201);
  const info = await env.inspect(v.body.containerId);
  victimWs = { id: v.body.id, containerId: v.body.containerId, startedAt: info.State.StartedAt };
  const s = await env.launch(sacrifice, { name: "sacrifice-ws", imageId: busyboxId });
  expect(s.status, s.text).toBe(201);
  sacrificeWsId = s.body.id;
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.cleanup();
}, SETUP_TIMEOUT_MS);

describe("the map of routes (read from app/**/route.ts)", () => {
  it("finds the app's routes on disk, with their methods", () => {
    const patterns = ROUTES.map((r) => r.pattern);
    // A walker that finds nothing would pass everything: these must be among what it finds.
    for (const known of ["/api/health", "/api/me", "/api/workspaces", "/api/workspaces/[id]/reset", "/api/admin/users/[id]", NEXT_AUTH]) {
      expect(patterns).toContain(known);
    }
    expect(ROUTES.length).toBeGreaterThanOrEqual(20);
    for (const r of ROUTES) expect(r.exports.length, `${r.file} exports no HTTP method the walker can read`).toBeGreaterThan(0);
  });

  it("every exported method is wrapped in withUser, withAdmin or withPublic; withPublic only where allowed", () => {
    const problems: string[] = [];
    for (const { route, exp } of calls()) {
      const id = `${exp.method} ${route.pattern}`;
      if (route.pattern === NEXT_AUTH) {
        if (exp.guard !== "next-auth") problems.push(`${id}: expected next-auth's own handler (${exp.how})`);
        continue;
      }
      if (!route.pattern.startsWith("/api/")) {
        if (!OWN_AUTH_ALLOWED.has(id)) problems.push(`${id} (${route.file}): a route outside app/api that this suite does not know`);
        continue;
      }
      if (exp.guard === "none" || exp.guard === "next-auth") {
        problems.push(`${id} (${route.file}): not wrapped in withUser/withAdmin/withPublic (${exp.how})`);
      } else if (exp.guard === "withPublic" && !PUBLIC_ALLOWED.has(id) && !PUBLIC_ALLOWED.has(`* ${route.pattern}`)) {
        problems.push(`${id} (${route.file}): withPublic, but not on the allow-list of public routes`);
      } else if (route.pattern.startsWith("/api/admin/") && exp.guard !== "withAdmin") {
        problems.push(`${id} (${route.file}): under /api/admin but guarded by ${exp.guard}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("next-auth's own /api/auth/* is the only next-auth handler (noted, not walked)", () => {
    const nextAuth = ROUTES.filter((r) => r.exports.some((e) => e.guard === "next-auth"));
    expect(nextAuth.map((r) => r.pattern)).toEqual([NEXT_AUTH]);
  });
});

describe("no credentials", () => {
  it("every guarded method answers 401 unauthorized, and so do garbage credentials", async () => {
    const garbage: [string, { token?: string; cookie?: string }][] = [
      ["none", {}],
      ["a made-up token", { token: `gnt_${rand(32)}` }],
      ["a token without the prefix", { token: rand(32) }],
      ["a garbage session cookie", { cookie: `next-auth.session-token=${rand(64)}` }],
      // An unsigned JWT naming a user: next-auth's cookie is an encrypted JWE, so this must be worthless.
      ["an alg:none JWT cookie", { cookie: `next-auth.session-token=${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ sub: victim.id })).toString("base64url")}.` }],
    ];
    for (const c of calls(isGuarded)) {
      for (const [what, creds] of garbage) {
        const res = await env.req(urlOf(c), { method: c.exp.method, ...creds, json: STATE_CHANGING.has(c.exp.method) && c.exp.method !== "DELETE" ? {} : undefined });
        expect(res.status, `${label(c)} with ${what}: ${res.text}`).toBe(401);
        expectErrorShape(res, 401, "unauthorized");
      }
    }
    await expectVictimUntouched();
  });

  it("public routes: /api/health answers; the catch-all answers a JSON 404 for every method", async () => {
    const health = await env.req("/api/health");
    expect(health.status).toBe(200);
    expect(health.body).toEqual({ ok: true, database: true, docker: true });
    for (const c of calls((c) => c.route.pattern === "/api/[...slug]")) {
      for (const path of [urlOf(c), "/api/admin/../admin/nothing", "/api/workspaces/x/y/z/w"]) {
        const res = await env.req(path, { method: c.exp.method });
        expectErrorShape(res, (s) => s === 404 || s === 405, (code) => code === "not_found" || code === "method_not_allowed");
      }
    }
  });

  it("the own-auth route /open/[id] sends an anonymous caller to the login page and hands out no grant", async () => {
    for (const c of calls((c) => label(c) === "GET /open/[id]")) {
      const res = await env.req(urlOf(c), { method: c.exp.method });
      expect([302, 303, 307, 308], res.text).toContain(res.status);
      const location = new URL(res.headers.get("location") ?? "", env.url);
      expect(location.pathname).toBe("/login");
      expect(location.toString()).not.toMatch(/grant=/);
    }
  });

  it("the own-auth route /metrics (its own bearer token, none made here) serves nothing to any credentials", async () => {
    expect(calls((c) => label(c) === "GET /metrics").length).toBe(1);
    const creds: { token?: string; cookie?: string }[] = [{}, { token: `gnm_${rand(43)}` }, { token: victim.token }, { token: env.admin.token }];
    for (const c of creds) {
      const res = await env.req("/metrics", c);
      expectErrorShape(res, 404, "not_found");
      expect(res.text).not.toMatch(/gantry_/);
    }
  });

  it("a method a route does not export is refused (405), never served", async () => {
    for (const route of ROUTES.filter((r) => r.pattern !== NEXT_AUTH)) {
      const exported = new Set(route.exports.map((e) => e.method));
      for (const method of CALLABLE.filter((m) => !exported.has(m))) {
        const res = await env.req(fillPattern(route, idsFor(route, "victim-resources")), { method, token: env.admin.token, json: method === "GET" || method === "DELETE" ? undefined : {} });
        expect(res.status, `${method} ${route.pattern}: ${res.text.slice(0, 200)}`).toBe(405);
      }
    }
  });
});

// Bodies a user might send to admin routes to take over: each must be refused (403) before it does anything.
function attackBody(c: Call): unknown {
  const m = c.exp.method;
  const p = c.route.pattern;
  const table: Record<string, unknown> = {
    "POST /api/admin/users": { email: `evil-${rand()}@gantry.test`, password: "evil-password-1", role: "admin" },
    "PATCH /api/admin/users/[id]": { role: "admin", disabled: false, password: "taken-over-pw-1" },
    "PUT /api/admin/users/[id]/quota": { maxGpus: 64, maxMemoryGb: 4096, maxCpus: 1024, maxWorkspaces: 100 },
    "PUT /api/admin/settings": { allowAdminWorkspaceAccess: true, hostReserve: { memoryGb: 0.5, cpus: 0.5 } },
    "POST /api/admin/images": { name: `evil-${rand()}`, ref: "evil/evil:1", command: "sh -c id" },
    "PATCH /api/admin/images/[id]": { ref: "evil/evil:1", command: "sh -c id" },
    "POST /api/admin/gpus/refresh": {},
  };
  if (m === "GET" || m === "DELETE") return undefined;
  return table[`${m} ${p}`] ?? {};
}

describe("as a user", () => {
  it("every admin route answers 403 forbidden, and nothing changes (not even the user's own role)", async () => {
    const before = await adminSnapshot();
    const adminCalls = calls((c) => c.exp.guard === "withAdmin");
    expect(adminCalls.length).toBeGreaterThan(5);
    for (const c of adminCalls) {
      // Aimed at the attacker herself where there is an id: promote herself, raise her own quota.
      const ids = Object.fromEntries(c.route.params.map((p) => [p.name, p.after === "users" ? mallory.id : idsFor(c.route, "victim-resources")[p.name]]));
      const res = await env.req(fillPattern(c.route, ids), { method: c.exp.method, token: mallory.token, json: attackBody(c) });
      expectErrorShape(res, 403, "forbidden");
    }
    expect(await adminSnapshot()).toEqual(before);
    const me = await env.req("/api/me", { token: mallory.token });
    expect(me.body.role).toBe("user");
  });

  it("user routes without an id answer her (not 401/403), and show nothing of anyone else's", async () => {
    for (const c of calls((c) => c.exp.guard === "withUser" && !hasId(c))) {
      const res = await env.req(urlOf(c), { method: c.exp.method, token: mallory.token, json: c.exp.method === "GET" ? undefined : {}, streamMs: 500 });
      expect([401, 403, 500], `${label(c)}: ${res.text.slice(0, 300)}`).not.toContain(res.status);
    }
    const list = await env.req("/api/workspaces", { token: mallory.token });
    expect(list.body).toEqual([]);
    const all = await env.req("/api/workspaces?all=1", { token: mallory.token });
    expectErrorShape(all, 403, "forbidden");
    const tokens = await env.req<{ id: string }[]>("/api/tokens", { token: mallory.token });
    expect(tokens.body.map((t) => t.id)).not.toContain(victim.tokenId);
    expect(tokens.text).not.toContain(victim.email);
  });
});

describe("as another user, on the first user's resources", () => {
  it("every route with an id answers 404 not_found, and nothing happens to the workspace or the token", async () => {
    const idRoutes = calls((c) => c.exp.guard === "withUser" && hasId(c));
    expect(idRoutes.map(label)).toEqual(expect.arrayContaining(["DELETE /api/tokens/[id]", "POST /api/workspaces/[id]/stop", "DELETE /api/workspaces/[id]"]));
    for (const c of idRoutes) {
      const res = await env.req(urlOf(c), { method: c.exp.method, token: mallory.token, json: c.exp.method === "POST" || c.exp.method === "PUT" || c.exp.method === "PATCH" ? {} : undefined });
      expectErrorShape(res, 404, "not_found");
    }
    // The same with her session cookie, from the dashboard's own origin.
    for (const c of idRoutes) {
      const res = await env.req(urlOf(c), { method: c.exp.method, jar: mallory.jar, origin: "self", json: c.exp.method === "POST" ? {} : undefined });
      expectErrorShape(res, 404, "not_found");
    }
    const open = await env.req(`/open/${victimWs.id}`, { token: mallory.token });
    expect(open.status).toBe(404);
    expect(open.headers.get("location")).toBeNull();
    await expectVictimUntouched();
  });

  it("an id that does not exist answers exactly like someone else's (no existence oracle)", async () => {
    const idRoutes = calls((c) => c.exp.guard === "withUser" && hasId(c));
    for (const c of idRoutes) {
      const theirs = await env.req(urlOf(c), { method: c.exp.method, token: mallory.token, json: c.exp.method === "POST" ? {} : undefined });
      const none = await env.req(fillPattern(c.route, { id: c.route.params[0].after === "workspaces" ? `ws${rand(10)}` : `c${rand(12)}` }), {
        method: c.exp.method,
        token: mallory.token,
        json: c.exp.method === "POST" ? {} : undefined,
      });
      expect({ status: none.status, body: none.body }, label(c)).toEqual({ status: theirs.status, body: theirs.body });
    }
  });
});

const BYPASS_HEADERS = [
  "middleware",
  "middleware:middleware:middleware:middleware:middleware",
  "src/middleware:src/middleware:src/middleware:src/middleware:src/middleware",
  "pages/_middleware",
  "proxy:proxy:proxy:proxy:proxy",
  "src/proxy:src/proxy:src/proxy:src/proxy:src/proxy",
];

describe("x-middleware-subrequest (CVE-2025-29927) gets no further than without it", () => {
  it.each(BYPASS_HEADERS)("%s", async (value) => {
    const headers = { "x-middleware-subrequest": value };
    for (const c of calls(isGuarded)) {
      const body = c.exp.method === "GET" || c.exp.method === "DELETE" ? undefined : {};
      const anon = await env.req(urlOf(c), { method: c.exp.method, headers, json: body });
      expectErrorShape(anon, 401, "unauthorized");
      if (c.exp.guard === "withAdmin") {
        const user = await env.req(urlOf(c), { method: c.exp.method, headers, token: mallory.token, json: attackBody(c) });
        expectErrorShape(user, 403, "forbidden");
      } else if (hasId(c)) {
        const other = await env.req(urlOf(c), { method: c.exp.method, headers, token: mallory.token, json: body });
        expectErrorShape(other, 404, "not_found");
      }
      if (STATE_CHANGING.has(c.exp.method)) {
        const csrf = await env.req(urlOf(c, "admin-resources"), { method: c.exp.method, headers: { ...headers }, jar: env.admin.jar, origin: "https://evil.example", json: body });
        expectErrorShape(csrf, 403, "cross_origin");
      }
    }
    await expectVictimUntouched();
  });
});

// ---- bad input ----

const RAW = (text: string) => ({ __raw: text });
type Raw = ReturnType<typeof RAW>;
const isRaw = (v: unknown): v is Raw => !!v && typeof v === "object" && "__raw" in (v as object);

const NUMBER_ATTACKS: [string, unknown][] = [
  ["negative", -1],
  ["NaN as a string", "NaN"],
  ["1e309", RAW("1e309")],
  ["-1e309", RAW("-1e309")],
  ["2^53+1", RAW("9007199254740993")],
  ["a numeric string", "5"],
  ["a fraction", 0.25],
  ["a boolean", true],
  ["an object", { n: 1 }],
  ["an array", [1]],
];
const STRING_ATTACKS: [string, unknown][] = [
  ["a number", 12345],
  ["a boolean", true],
  ["an object", { s: "x" }],
  ["an array", ["x"]],
  ["10 000 characters", "x".repeat(10_000)],
];
const BOOLEAN_ATTACKS: [string, unknown][] = [
  ["a string", "true"],
  ["a number", 1],
  ["an object", {}],
];
const OBJECT_ATTACKS: [string, unknown][] = [
  ["a string", "x"],
  ["a number", 1],
  ["an array", []],
];

/** A body that is valid in every field, per route; a body-taking route missing here fails the suite. */
function sampleBody(c: Call): Record<string, unknown> | null {
  const table: Record<string, () => Record<string, unknown>> = {
    "POST /api/workspaces": () => ({ name: "bad-input", imageId: busyboxId, gpus: 0, memoryGb: 0.5, cpus: 0.5 }),
    "POST /api/workspaces/[id]/stop": () => ({}),
    "POST /api/workspaces/[id]/start": () => ({}),
    "POST /api/workspaces/[id]/reset": () => ({}),
    "POST /api/workspaces/[id]/keep-running": () => ({}),
    "POST /api/tokens": () => ({ name: "bad-input" }),
    "POST /api/me/ssh-keys": () => ({ name: "bad-input", publicKey: newPublicKey() }),
    "POST /api/me/password": () => ({ currentPassword: "not-the-current-password", newPassword: "a-new-password-1" }),
    "POST /api/admin/users": () => ({ email: `bad-${rand()}@gantry.test`, name: "Bad Input", password: "bad-input-pw-1", role: "user" }),
    "PATCH /api/admin/users/[id]": () => ({ name: "Target", role: "user", disabled: false, password: "target-pw-123" }),
    "PUT /api/admin/users/[id]/quota": () => ({ maxGpus: 1, maxMemoryGb: 16, maxCpus: 4, maxWorkspaces: 3, gpuHoursBudget: 20, budgetPeriod: "week" }),
    "PUT /api/admin/settings": () => ({
      defaultQuota: { maxGpus: 1, maxMemoryGb: 16, maxCpus: 4, maxWorkspaces: 3, gpuHoursBudget: 20, budgetPeriod: "month" },
      shmSizeGb: 1,
      hostReserve: { memoryGb: 0, cpus: 0 },
      dataPath: "/srv/gantry-datasets",
      allowAdminWorkspaceAccess: false,
      idleCulling: { timeoutMinutes: 60, warningMinutes: 10, gpuThresholdPercent: 10, maxSnoozes: 2, webhookUrl: "https://hooks.example.com/gantry" },
    }),
    "POST /api/admin/images": () => ({ name: `bad-${rand()}`, ref: BUSYBOX_IMAGE, description: "d", command: "sleep 1000", port: 8888, cudaVersion: "12.1", idleTimeoutMinutes: 30 }),
    "PATCH /api/admin/images/[id]": () => ({ name: `bad-${rand()}`, ref: BUSYBOX_IMAGE, description: "d", command: "sleep 1000", port: 8888, cudaVersion: "12.1", idleTimeoutMinutes: 0 }),
    "POST /api/admin/gpus/refresh": () => ({}),
    "POST /api/admin/settings/metrics-token": () => ({}),
  };
  return table[label(c)]?.() ?? null;
}

function serialize(body: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(body, (_k, v) => {
    if (isRaw(v)) {
      raws.push(v.__raw);
      return `__RAW_${raws.length - 1}__`;
    }
    return v;
  });
  return text.replace(/"__RAW_(\d+)__"/g, (_, i: string) => raws[Number(i)]);
}

/** Number fields where a quarter is a valid value (hours of budget); every other number field must refuse one. */
const FRACTIONS_ALLOWED = new Set(["gpuHoursBudget"]);

/** Every (path, value) mutation of a sample body: each field replaced by each hostile value of its type. */
function mutations(sample: Record<string, unknown>): { path: string[]; what: string; body: unknown }[] {
  const out: { path: string[]; what: string; body: unknown }[] = [];
  const visit = (value: unknown, path: string[]) => {
    const attacks =
      typeof value === "number" ? NUMBER_ATTACKS.filter(([what]) => !(what === "a fraction" && FRACTIONS_ALLOWED.has(path[path.length - 1])))
      : typeof value === "string" ? STRING_ATTACKS
      : typeof value === "boolean" ? BOOLEAN_ATTACKS
      : value && typeof value === "object" ? OBJECT_ATTACKS
      : [];
    for (const [what, attack] of attacks) {
      const body = structuredClone(sample) as Record<string, unknown>;
      let node = body as Record<string, unknown>;
      for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
      node[path[path.length - 1]] = attack;
      out.push({ path, what, body });
    }
    if (value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) visit(v, [...path, k]);
    }
  };
  for (const [k, v] of Object.entries(sample)) visit(v, [k]);
  return out;
}

function bodyCalls(): Call[] {
  return calls((c) => isGuarded(c) && (c.exp.method === "POST" || c.exp.method === "PUT" || c.exp.method === "PATCH"));
}

function credsFor(c: Call): { token: string } {
  return { token: c.exp.guard === "withAdmin" ? env.admin.token : victim.token };
}

function bodyUrl(c: Call): string {
  const ids = idsFor(c.route, "victim-resources");
  for (const p of c.route.params) if (p.after === "users") ids[p.name] = target.id;
  return fillPattern(c.route, ids);
}

/** A raw request (see rawRequest) as the route's caller, recorded in the transcript like every other answer. */
async function sendRaw(url: string, c: Call, chunks: Buffer[], headers: Record<string, string>): Promise<Answer> {
  const t0 = Date.now();
  const once = () =>
    rawRequest(env.url + url, {
      method: c.exp.method,
      headers: { "content-type": "application/json", authorization: `Bearer ${credsFor(c).token}`, ...headers },
      chunks,
    });
  // The server tears the connection down right after refusing (see the keep-alive test below); on a loaded machine
  // that reset can overtake its 413. A transport error is retried; the answer, when it comes, must be the 413.
  let res: Awaited<ReturnType<typeof once>> | undefined;
  for (let i = 0; i < 3 && !res; i++) res = await once().catch(() => undefined);
  if (!res) res = await once();
  env.transcript.add(`${c.exp.method} ${url} (raw) -> ${res.status}`, res.text);
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    body = undefined;
  }
  const h = new Headers();
  for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
  return { status: res.status, text: res.text, body, headers: h, ms: Date.now() - t0 };
}

async function expectServing(): Promise<void> {
  const health = await env.req("/api/health");
  expect(health.status).toBe(200);
}

describe("bad input on every route that takes a body", () => {
  it("every body-taking route has a sample body here, so that its fields are attacked", () => {
    const missing = bodyCalls().filter((c) => !sampleBody(c)).map(label);
    expect(missing, "add a valid sample body for these routes to sampleBody()").toEqual([]);
    expect(bodyCalls().length).toBeGreaterThanOrEqual(10);
  });

  it("malformed JSON, invalid UTF-8, >1 MiB, wrong content type, bare values, unknown fields, __proto__: a clear 4xx", async () => {
    for (const c of bodyCalls()) {
      const sample = sampleBody(c)!;
      const url = bodyUrl(c);
      const send = (body: string | Uint8Array | ReadableStream<Uint8Array>, headers?: Record<string, string>) =>
        env.req(url, { method: c.exp.method, ...credsFor(c), body, headers });
      const l = label(c);

      expectErrorShape(await send('{"name": "x",'), 400, "invalid_json");
      expectErrorShape(await send("{'single': 'quotes'}"), 400, "invalid_json");
      expectErrorShape(await send("NaN"), 400, "invalid_json");
      expectErrorShape(await send(Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')])), 400, "invalid_encoding");
      // Declared too large (Content-Length), and streamed in chunks with no length: both refused once past 1 MiB.
      const big = Buffer.from(`{"name":"${"a".repeat(1024 * 1024 + 16)}"}`);
      expectErrorShape(await sendRaw(url, c, [big], { "content-length": String(big.byteLength) }), 413, "payload_too_large");
      const chunks = [Buffer.from('{"name":"'), ...Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 0x61))];
      expectErrorShape(await sendRaw(url, c, chunks, { "transfer-encoding": "chunked" }), 413, "payload_too_large");
      expectErrorShape(await send(serialize(sample), { "content-type": "text/plain" }), 415, "unsupported_media_type");

      for (const bare of ["-1", '"NaN"', "1e309", "9007199254740993", "null", "[]", '"a string"', "true", "[".repeat(100_000) + "]".repeat(100_000)]) {
        const res = await send(bare);
        expectErrorShape(res, (s) => s === 400 || s === 422, (code) => code === "validation_failed" || code === "invalid_json");
      }
      const unknown = await send(serialize({ ...sample, unknownField: 1 }));
      expectErrorShape(unknown, 422, "validation_failed");
      expect(unknown.body.error.message, l).toContain("unknownField");
      const proto = await send(`${serialize(sample).slice(0, -1)}${Object.keys(sample).length ? "," : ""}"__proto__":{"role":"admin","isAdmin":true}}`);
      expectErrorShape(proto, 422, "validation_failed");
      const ctor = await send(serialize({ ...sample, constructor: { prototype: { role: "admin" } } }));
      expectErrorShape(ctor, 422, "validation_failed");
      await expectServing();
    }
  });

  it("each field, one at a time: negative, NaN, 1e309, 2^53+1, wrong types, 10 000 characters → 422 naming that field", async () => {
    let count = 0;
    for (const c of bodyCalls()) {
      const sample = sampleBody(c)!;
      for (const m of mutations(sample)) {
        const res = await env.req(bodyUrl(c), { method: c.exp.method, ...credsFor(c), body: serialize(m.body) });
        const what = `${label(c)} with ${m.path.join(".")} = ${m.what}`;
        expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBe(422);
        expectErrorShape(res, 422, "validation_failed");
        expect(res.body.error.details?.fields, `${what}: ${res.text.slice(0, 300)}`).toEqual([m.path.join(".")]);
        // The answer names the problem without echoing an attacker-sized value back.
        expect(res.text.length, what).toBeLessThan(2000);
        count++;
      }
      await expectServing();
    }
    expect(count).toBeGreaterThan(150);
  });

  it("a refused oversized streamed body leaves the connection usable, or says Connection: close", async () => {
    // Browsers and fetch keep connections alive and reuse them: a 413 that advertises keep-alive must mean it.
    // Repeated: a server that hangs up while the client is still sending can reset the connection before the client
    // has read the 413 (a few percent of tries before lib/http/linger.ts).
    for (let attempt = 1; attempt <= 20; attempt++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const chunks = [Buffer.from('{"name":"'), ...Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 0x61))];
        const refused = await rawRequest(`${env.url}/api/tokens`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${victim.token}`, "transfer-encoding": "chunked" },
          chunks,
          agent,
        }).catch((e: Error) => ({ status: -1, text: (e as NodeJS.ErrnoException).code ?? e.message, headers: {} as http.IncomingHttpHeaders }));
        expect(refused.status, `attempt ${attempt}: the client read ${refused.status} ${refused.text.slice(0, 100)}`).toBe(413);
        const next = await rawRequest(`${env.url}/api/health`, { method: "GET", headers: {}, chunks: [], agent }).catch((e: Error) => ({
          status: -1,
          text: `${(e as NodeJS.ErrnoException).code ?? e.message}`,
          headers: {},
          writeError: null,
        }));
        const closes = String(refused.headers.connection ?? "").toLowerCase() === "close";
        expect(
          { closesTheConnection: closes, nextRequestOnIt: next.status },
          `attempt ${attempt}: the 413 said "Connection: ${refused.headers.connection}", and the next request on that connection got ${next.status} ${next.text.slice(0, 100)}`,
        ).toEqual({ closesTheConnection: closes, nextRequestOnIt: 200 });
      } finally {
        agent.destroy();
      }
    }
  });

  it("query strings: negative, NaN, 1e309, 2^53+1 and unknown parameters → 422", async () => {
    const queries: [string, string[]][] = [
      ["/api/admin/audit", ["page=-1", "page=NaN", "page=1e309", "pageSize=9007199254740993", "pageSize=0.5", "page=abc", "unknown=1"]],
      [`/api/workspaces/${victimWs.id}/logs`, ["tail=-1", "tail=NaN", "tail=1e309", "tail=9007199254740993", "tail=0.5", "unknown=1"]],
    ];
    for (const [path, list] of queries) {
      for (const q of list) {
        const res = await env.req(`${path}?${q}`, { token: path.startsWith("/api/admin") ? env.admin.token : victim.token });
        expectErrorShape(res, 422, "validation_failed");
      }
    }
  });

  it("after all of it: the server still serves, nothing was created, and the victim's workspace is untouched", async () => {
    await expectServing();
    const list = await env.req<{ name: string }[]>("/api/workspaces", { token: victim.token });
    expect(list.body.map((w) => w.name)).toEqual(["victim-ws"]);
    const images = await env.req<{ name: string }[]>("/api/admin/images", { token: env.admin.token });
    expect(images.body.filter((i) => i.name.startsWith("bad-"))).toEqual([]);
    const users = await env.req<{ email: string }[]>("/api/admin/users", { token: env.admin.token });
    expect(users.body.filter((u) => u.email.startsWith("bad-") || u.email.startsWith("evil-"))).toEqual([]);
    const settings = await env.req("/api/admin/settings", { token: env.admin.token });
    expect(settings.body.dataPath).toBeNull();
    await expectVictimUntouched();
  });
});

describe("as an admin", () => {
  it("no route answers 401 or 403 (destructive calls aimed at resources made to be destroyed)", async () => {
    const all = calls(isGuarded);
    // Deletions last, workspaces before users: each call finds what it aims at.
    const order = (c: Call) => (c.exp.method === "DELETE" ? (c.route.pattern.startsWith("/api/workspaces") ? 1 : 2) : 0);
    const sorted = [...all].sort((a, b) => order(a) - order(b));
    const seen: string[] = [];
    for (const c of sorted) {
      const call = () =>
        env.req(urlOf(c, "admin-resources"), {
          method: c.exp.method,
          token: env.admin.token,
          json: c.exp.method === "GET" || c.exp.method === "DELETE" ? undefined : {},
          streamMs: 500,
        });
      let res = await call();
      // A loaded shared Docker engine can miss Gantry's 2-second ping; that answer changes nothing, so ask again.
      for (let i = 0; i < 3 && res.status === 503 && res.body?.error?.code === "docker_unavailable"; i++) res = await call();
      seen.push(`${label(c)} -> ${res.status}`);
      expect([401, 403], `${label(c)}: ${res.text.slice(0, 300)}`).not.toContain(res.status);
      expect(res.status, `${label(c)}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
    }
    // The destructive ones did what they say, on what they were aimed at.
    expect(seen).toEqual(expect.arrayContaining(["DELETE /api/workspaces/[id] -> 204", "DELETE /api/admin/users/[id] -> 204", "DELETE /api/admin/images/[id] -> 204", "DELETE /api/tokens/[id] -> 204"]));
    await expectVictimUntouched();
  });

  it("another user's token id is 404 for an admin too (tokens belong to their user)", async () => {
    const res = await env.req(`/api/tokens/${victim.tokenId}`, { method: "DELETE", token: env.admin.token });
    expectErrorShape(res, 404, "not_found");
    await expectVictimUntouched();
  });
});

describe("the whole file", () => {
  it("never answered 500, and no answer or log line holds a secret", async () => {
    expect(env.transcript.containing(/^--- \S+ \S+( \(raw\))? -> 500/)).toEqual([]);
    expect(serverLog(env)).not.toMatch(/"level":"error"/);
    const summary = await expectNoSecrets(env);
    expect(summary.answers).toBeGreaterThan(500);
    // Foreign-looking leftovers: the only containers of this file's users are Gantry's own.
    const mine = await docker.listContainers({ all: true, filters: { label: [`gantry.user=${victim.id}`] } });
    expect(mine.map((c) => c.Id)).toEqual([victimWs.containerId]);
  });
});
