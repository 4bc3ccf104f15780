import { generateEd25519 } from "../../lib/ssh/generate-key";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/gantry-server";
import { discoverRoutes, fillPattern, type RouteExport, type RouteFile } from "../helpers/route-files";
import {
  BUSYBOX_IMAGE,
  SETUP_TIMEOUT_MS,
  expectErrorShape,
  expectNoSecrets,
  rand,
  startSecurityEnv,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// CSRF and origins. A state change authenticated by the session cookie must come from the dashboard's own origin;
// every state-changing route is walked (from app/**/route.ts) with the admin's real cookie and a request that would
// do real damage, from every kind of foreign origin, and must change nothing. An Authorization header is judged by
// itself alone: it never falls back to the cookie.

type Call = { route: RouteFile; exp: RouteExport };
const CALLS: Call[] = discoverRoutes()
  .flatMap((route) => route.exports.map((exp) => ({ route, exp })))
  .filter((c) => (c.exp.guard === "withUser" || c.exp.guard === "withAdmin") && ["POST", "PUT", "PATCH", "DELETE"].includes(c.exp.method));
const label = (c: Call) => `${c.exp.method} ${c.route.pattern}`;

let env: SecurityEnv;
let alice: Principal;
let busyboxId: string;
let spareImageId: string;
let spareTokenId: string;
let spareSshKeyId: string;
let ws: { id: string; containerId: string };
/** GANTRY_PUBLIC_URL: the name users open the dashboard at, other than the address the tests connect to. */
let publicUrl: string;

/** Real targets: if an origin check were missing, these requests would take over or destroy something. */
function realIds(route: RouteFile): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const p of route.params) {
    const table: Record<string, string> = { workspaces: ws.id, tokens: spareTokenId, users: alice.id, images: spareImageId, "ssh-keys": spareSshKeyId };
    if (!table[p.after]) throw new Error(`no target for [${p.name}] after ${p.after} in ${route.file}: add one to realIds()`);
    ids[p.name] = table[p.after];
  }
  return ids;
}

function damagingBody(c: Call): unknown {
  const table: Record<string, unknown> = {
    "POST /api/workspaces": { name: `csrf-${rand()}`, imageId: busyboxId, gpus: 0, memoryGb: 0.5, cpus: 0.5 },
    "POST /api/tokens": { name: "csrf" },
    "POST /api/me/ssh-keys": { name: "csrf", publicKey: generateEd25519().public },
    "POST /api/me/password": { currentPassword: env.admin.password, newPassword: "csrf-owns-you-1" },
    "POST /api/admin/users": { email: `csrf-${rand()}@evil.example`, password: "csrf-password-1", role: "admin" },
    "PATCH /api/admin/users/[id]": { role: "admin" },
    "PUT /api/admin/users/[id]/quota": { maxGpus: 64, maxMemoryGb: 4096, maxCpus: 1024, maxWorkspaces: 100 },
    "PUT /api/admin/settings": { allowAdminWorkspaceAccess: true },
    "POST /api/admin/images": { name: `csrf-${rand()}`, ref: "evil/evil:1" },
    "PATCH /api/admin/images/[id]": { description: "csrf was here" },
  };
  if (c.exp.method === "DELETE") return undefined;
  return table[label(c)] ?? {};
}

async function state(): Promise<unknown> {
  const get = async (path: string) => {
    const res = await env.req(path, { token: env.admin.token });
    expect(res.status, `${path}: ${res.text}`).toBe(200);
    return res.body;
  };
  const users = (await get("/api/admin/users")) as { id: string; email: string; role: string; disabled: boolean; quota: unknown }[];
  const workspaces = (await get("/api/workspaces?all=1")) as { id: string; status: string; containerId: string }[];
  const tokens = (await get("/api/tokens")) as { id: string; name: string }[];
  const sshKeys = (await get("/api/me/ssh-keys")) as { id: string }[];
  return {
    users: users.map((u) => ({ id: u.id, email: u.email, role: u.role, disabled: u.disabled, quota: u.quota })),
    images: await get("/api/admin/images"),
    settings: await get("/api/admin/settings"),
    workspaces: workspaces.map((w) => ({ id: w.id, status: w.status, containerId: w.containerId })),
    tokens: tokens.map((t) => t.id).sort(),
    sshKeys: sshKeys.map((k) => k.id).sort(),
    auditTotal: ((await get("/api/admin/audit?pageSize=1")) as { total: number }).total,
  };
}

beforeAll(async () => {
  const port = await freePort();
  publicUrl = `http://dashboard.gantry.test:${port}`;
  env = await startSecurityEnv({ prefix: "gantry-sec-csrf-", port, env: { GANTRY_PUBLIC_URL: publicUrl } });
  busyboxId = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
  spareImageId = await env.addImage(`spare-${rand()}`, BUSYBOX_IMAGE);
  alice = await env.createUser("alice");
  spareTokenId = (await env.newToken(env.admin, "spare")).id;
  const key = await env.req<{ id: string }>("/api/me/ssh-keys", { token: env.admin.token, json: { name: "spare", publicKey: generateEd25519().public } });
  if (key.status !== 201) throw new Error(`adding the spare SSH key answered ${key.status}: ${key.text}`);
  spareSshKeyId = key.body.id;
  const launched = await env.launch(alice, { name: "alice-ws", imageId: busyboxId });
  expect(launched.status, launched.text).toBe(201);
  ws = { id: launched.body.id, containerId: launched.body.containerId };
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.cleanup();
}, SETUP_TIMEOUT_MS);

describe("cookie-authenticated state changes", () => {
  it("the walk covers the state-changing routes", () => {
    expect(CALLS.map(label)).toEqual(expect.arrayContaining(["POST /api/workspaces", "DELETE /api/admin/users/[id]", "POST /api/me/password", "PUT /api/admin/settings"]));
  });

  it("from a foreign origin, with no Origin, or from the workspace proxy's origin: 403 cross_origin on every route, and nothing changes", async () => {
    const port = new URL(env.url).port;
    const proxyPort = String(env.server.proxyPort);
    const origins: [string, Record<string, string>][] = [
      ["a foreign origin", { origin: "https://evil.example" }],
      ["no Origin at all", {}],
      ["Origin: null (sandboxed frame, file://)", { origin: "null" }],
      ["the workspace proxy's origin (users' Jupyter content)", { origin: `http://127.0.0.1:${proxyPort}` }],
      ["the proxy port on localhost", { origin: `http://localhost:${proxyPort}` }],
      ["the dashboard's host over https", { origin: `https://127.0.0.1:${port}` }],
      ["the public name over https", { origin: publicUrl.replace("http:", "https:") }],
      ["the public name on the proxy's port", { origin: `http://dashboard.gantry.test:${proxyPort}` }],
      ["another name for the same host (localhost)", { origin: `http://localhost:${port}` }],
      ["a look-alike host", { origin: `http://127.0.0.1:${port}.evil.example` }],
      ["a look-alike of the public name", { origin: `http://dashboard.gantry.test.evil.example:${port}` }],
      ["the right port on another host", { origin: `http://evil.example:${port}` }],
      ["only a same-site Referer", { referer: `${env.url}/admin/users` }],
    ];
    const before = await state();
    let count = 0;
    for (const c of CALLS) {
      for (const [what, headers] of origins) {
        const res = await env.req(fillPattern(c.route, realIds(c.route)), { method: c.exp.method, jar: env.admin.jar, headers, json: damagingBody(c) });
        expect(res.status, `${label(c)} with ${what}: ${res.text.slice(0, 200)}`).toBe(403);
        expectErrorShape(res, 403, "cross_origin");
        count++;
      }
    }
    expect(count).toBeGreaterThanOrEqual(CALLS.length * origins.length);
    expect(await state()).toEqual(before);
    // The workspace runs on in the same container, the admin's password is unchanged, alice is still a user.
    const got = await env.req(`/api/workspaces/${ws.id}`, { token: alice.token });
    expect({ status: got.body.status, containerId: got.body.containerId }).toEqual({ status: "running", containerId: ws.containerId });
    expect((await env.login(env.admin.email, env.admin.password)).ok).toBe(true);
    expect((await env.req("/api/me", { token: alice.token })).body.role).toBe("user");
  });

  it("from the dashboard's own origin (as GANTRY_PUBLIC_URL names it, and the request's own host): allowed", async () => {
    for (const origin of [publicUrl, env.url]) {
      for (const c of CALLS) {
        // Ids that do not exist and bodies with an unknown field: the answer proves the origin check let it through.
        const ids = Object.fromEntries(c.route.params.map((p) => [p.name, p.after === "workspaces" ? `ws${rand(10)}` : `c${rand(12)}`]));
        const res = await env.req(fillPattern(c.route, ids), {
          method: c.exp.method,
          jar: env.admin.jar,
          origin,
          json: c.exp.method === "DELETE" ? undefined : { unknownField: 1 },
        });
        // A DELETE of a thing without an id (the metrics token) has nothing to miss: its 200 (already off) proves it too.
        const allowed = c.exp.method === "DELETE" && c.route.params.length === 0 ? [200, 404, 422] : [404, 422];
        expect(allowed, `${label(c)} from ${origin}: ${res.status} ${res.text.slice(0, 200)}`).toContain(res.status);
      }
      const created = await env.req("/api/tokens", { jar: env.admin.jar, origin, json: { name: "own-origin" } });
      expect(created.status, created.text).toBe(201);
      env.secrets.apiTokens.add(created.body.token);
    }
  });

  it("a user's cookie from a foreign origin cannot act on her own workspace either", async () => {
    for (const verb of ["stop", "reset"]) {
      const res = await env.req(`/api/workspaces/${ws.id}/${verb}`, { method: "POST", jar: alice.jar, origin: "https://evil.example", json: {} });
      expectErrorShape(res, 403, "cross_origin");
    }
    const del = await env.req(`/api/workspaces/${ws.id}`, { method: "DELETE", jar: alice.jar });
    expectErrorShape(del, 403, "cross_origin");
    const tok = await env.req(`/api/tokens/${alice.tokenId}`, { method: "DELETE", jar: alice.jar, origin: "https://evil.example" });
    expectErrorShape(tok, 403, "cross_origin");
    expect((await env.req("/api/me", { token: alice.token })).status).toBe(200);
    const got = await env.req(`/api/workspaces/${ws.id}`, { token: alice.token });
    expect({ status: got.body.status, containerId: got.body.containerId }).toEqual({ status: "running", containerId: ws.containerId });
  });

  it("reads from a foreign origin get no CORS grant: no Access-Control-Allow-Origin, on answers or preflights", async () => {
    const read = await env.req("/api/me", { jar: env.admin.jar, origin: "https://evil.example" });
    expect(read.status).toBe(200);
    const preflight = await env.req("/api/workspaces", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    for (const res of [read, preflight]) {
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-credentials")).toBeNull();
    }
  });

  it("the session cookie is HttpOnly and SameSite=Lax; the sign-in form is protected by next-auth's CSRF token", async () => {
    const signIn = await env.login(alice.email, alice.password);
    const line = signIn.setCookies.find((c) => c.startsWith("next-auth.session-token="));
    expect(line, signIn.setCookies.join("\n")).toBeDefined();
    expect(line!).toMatch(/;\s*HttpOnly/i);
    expect(line!).toMatch(/;\s*SameSite=Lax/i);
    expect(line!).toMatch(/;\s*Path=\//i);
    // A login form posted from elsewhere (no CSRF token, or a made-up one) gets no session.
    for (const csrfToken of [undefined, rand(32)]) {
      const form = new URLSearchParams({ email: alice.email, password: alice.password, json: "true", ...(csrfToken ? { csrfToken } : {}) });
      const res = await env.req("/api/auth/callback/credentials", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example" },
        body: form.toString(),
      });
      expect(res.headers.getSetCookie().filter((c) => c.startsWith("next-auth.session-token=") && !/=;/.test(c))).toEqual([]);
    }
  });
});

describe("Authorization header never falls back to the cookie", () => {
  it("an invalid, malformed, empty or revoked Authorization with a valid admin cookie is 401", async () => {
    const revoked = await env.newToken(env.admin, "to-revoke");
    const del = await env.req(`/api/tokens/${revoked.id}`, { method: "DELETE", token: env.admin.token });
    expect(del.status).toBe(204);
    const headersList: [string, string][] = [
      ["a made-up token", `Bearer gnt_${rand(32)}`],
      ["a revoked token", `Bearer ${revoked.token}`],
      ["Basic credentials", `Basic ${Buffer.from(`${env.admin.email}:${env.admin.password}`).toString("base64")}`],
      ["Bearer without a token", "Bearer"],
      ["two tokens", `Bearer ${env.admin.token} ${env.admin.token}`],
      ["an empty header", ""],
      ["a token with the session cookie's value", `Bearer ${/next-auth\.session-token=([^;]+)/.exec(env.admin.jar.header())?.[1]}`],
    ];
    for (const [what, authorization] of headersList) {
      for (const [method, path, json] of [
        ["GET", "/api/me", undefined],
        ["GET", "/api/admin/users", undefined],
        ["POST", "/api/tokens", { name: "fallback" }],
        ["POST", `/api/workspaces/${ws.id}/stop`, {}],
      ] as const) {
        const res = await env.req(path, { method, jar: env.admin.jar, origin: "self", headers: { authorization }, json });
        expect(res.status, `${method} ${path} with ${what} and a valid cookie: ${res.text.slice(0, 200)}`).toBe(401);
        expectErrorShape(res, 401, "unauthorized");
      }
    }
    const got = await env.req(`/api/workspaces/${ws.id}`, { token: alice.token });
    expect(got.body.status).toBe("running");
  });

  it("a valid user token with an admin's cookie acts as the user (admin routes 403)", async () => {
    const me = await env.req("/api/me", { token: alice.token, jar: env.admin.jar });
    expect(me.body.id).toBe(alice.id);
    const admin = await env.req("/api/admin/users", { token: alice.token, jar: env.admin.jar });
    expectErrorShape(admin, 403, "forbidden");
    // A forged cookie next to a valid token is ignored: the token decides.
    const withJunk = await env.req("/api/me", { token: alice.token, cookie: `next-auth.session-token=${rand(40)}` });
    expect(withJunk.body.id).toBe(alice.id);
  });

  it("Bearer requests need no Origin (a token is never sent by a browser on its own)", async () => {
    const res = await env.req("/api/tokens", { token: alice.token, origin: "https://evil.example", json: { name: "bearer-cross-origin" } });
    expect(res.status, res.text).toBe(201);
    env.secrets.apiTokens.add(res.body.token);
  });
});

describe("the whole file", () => {
  it("no answer or log line holds a secret", async () => {
    expect(env.transcript.containing(/^--- \S+ \S+ -> 500/)).toEqual([]);
    await expectNoSecrets(env);
  });
});
