import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { startServer, type GantryServer } from "../helpers/gantry-server";
import { cli, createTokenWithCli } from "../helpers/run-cli";
import { login, type Session } from "../helpers/http-session";

// One real server (node dist/server.mjs, production build) on a fresh data dir, driven over HTTP, with users and
// tokens made by the real CLI on the same SQLite file.

const ADMIN = { email: "admin@gantry.test", password: "admin-password-123" };
const ALICE = { email: "alice@gantry.test", password: "alice-password-1" };
const BOB = { email: "bob@gantry.test", password: "bob-password-12" };
const CAROL = { email: "carol@gantry.test", password: "carol-password-1" };

let dataDir: DataDir;
let server: GantryServer;
let aliceToken: string;
let bobToken: string;
let carolToken: string;

// A server start and six CLI processes: minutes on a busy 2-core machine.
const SETUP_TIMEOUT_MS = 300_000;

beforeAll(async () => {
  dataDir = makeDataDir("gantry-api-");
  server = await startServer({ dataDir: dataDir.path, adminEmail: ADMIN.email, adminPassword: ADMIN.password });
  // One writer at a time: concurrent CLI writers can time out on SQLite's lock on a loaded machine.
  for (const u of [ALICE, BOB, CAROL]) await cli(dataDir.path, ["user", "create", "--email", u.email, "--password", u.password]);
  aliceToken = await createTokenWithCli(dataDir.path, ALICE.email);
  bobToken = await createTokenWithCli(dataDir.path, BOB.email);
  carolToken = await createTokenWithCli(dataDir.path, CAROL.email);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  dataDir?.remove();
});

function api(pathname: string, init: RequestInit & { token?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  return fetch(server.url + pathname, { ...init, headers, redirect: "manual" });
}

/** The one error shape: `{ error: { code, message[, details] } }` with a sentence for a message. */
async function expectError(res: Response, status: number, code: string): Promise<{ code: string; message: string; details?: unknown }> {
  const body = await res.json();
  expect({ status: res.status, code: body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(body)).toEqual(["error"]);
  expect(Object.keys(body.error).filter((k) => k !== "details")).toEqual(["code", "message"]);
  expect(typeof body.error.message).toBe("string");
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error;
}

describe("health", () => {
  it("reports the database and the Docker engine as up", async () => {
    const res = await api("/api/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, database: true, docker: true });
  });
});

describe("data directory", () => {
  it("keeps the generated session secret and the database owner-only (0600) in a 0700 directory", () => {
    const secret = path.join(dataDir.path, "nextauth-secret");
    expect(fs.statSync(secret).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(secret, "utf8").trim().length).toBeGreaterThanOrEqual(32);
    expect(fs.statSync(dataDir.databaseFile).mode & 0o777).toBe(0o600);
    expect(fs.statSync(dataDir.path).mode & 0o777).toBe(0o700);
  });
});

describe("Bearer tokens", () => {
  it("GET /api/me with a token from `gantry token create` returns its user", async () => {
    const res = await api("/api/me", { token: aliceToken });
    expect(res.status).toBe(200);
    const me = await res.json();
    expect(me).toMatchObject({ id: expect.stringMatching(/^c[a-z0-9]+$/), email: ALICE.email, name: "alice", role: "user" });
    expect(JSON.stringify(me)).not.toMatch(/passwordHash|tokenHash|\$2[aby]\$/);
  });

  it("answers 401 in the API's error shape without credentials", async () => {
    await expectError(await api("/api/me"), 401, "unauthorized");
  });

  it.each([
    ["no token after Bearer", "Bearer"],
    ["another scheme", `Basic ${Buffer.from("alice:pw").toString("base64")}`],
    ["two tokens", "Bearer gnt_aaa gnt_bbb"],
    ["an empty header", ""],
    ["a bare token", "gnt_abcdef"],
  ])("answers 401 for a malformed Authorization header: %s", async (_name, value) => {
    await expectError(await api("/api/me", { headers: { authorization: value } }), 401, "unauthorized");
  });

  it.each([
    ["an unknown token with the right prefix", `gnt_${crypto.randomBytes(32).toString("base64url")}`],
    ["a token without the prefix", crypto.randomBytes(32).toString("base64url")],
    ["an oversized token", `gnt_${"a".repeat(5000)}`],
  ])("answers 401 for %s", async (_name, token) => {
    await expectError(await api("/api/me", { token }), 401, "unauthorized");
  });

  it("never falls back to the session cookie when a token is present", async () => {
    const { ok, session } = await login(server.url, ALICE.email, ALICE.password);
    expect(ok).toBe(true);
    const res = await session.fetch("/api/me", { headers: { authorization: "Bearer gnt_not-a-real-token" } });
    await expectError(res, 401, "unauthorized");
  });

  it("stops working on the very next request once the CLI disables its user", async () => {
    const before = await api("/api/me", { token: carolToken });
    expect(before.status).toBe(200);
    await cli(dataDir.path, ["user", "disable", "--email", CAROL.email]);
    await expectError(await api("/api/me", { token: carolToken }), 401, "unauthorized");
    await cli(dataDir.path, ["user", "enable", "--email", CAROL.email]);
    expect((await api("/api/me", { token: carolToken })).status).toBe(200);
  });
});

describe("/api/tokens", () => {
  it("creates a token shown once, lists it without the token or its hash, and deletes it", async () => {
    const createRes = await api("/api/tokens", {
      method: "POST",
      token: aliceToken,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "notebook" }),
    });
    expect(createRes.status).toBe(201);
    const created = await createRes.json();
    expect(created).toEqual({
      id: expect.any(String),
      name: "notebook",
      prefix: created.token.slice(0, 10),
      createdAt: expect.any(String),
      lastUsedAt: null,
      token: expect.stringMatching(/^gnt_[A-Za-z0-9_-]{43}$/),
    });

    // The new token works on its own.
    const me = await api("/api/me", { token: created.token });
    expect((await me.json()).email).toBe(ALICE.email);

    const listRes = await api("/api/tokens", { token: aliceToken });
    expect(listRes.status).toBe(200);
    const text = await listRes.text();
    const list = JSON.parse(text) as Record<string, unknown>[];
    expect(list.map((t) => t.name).sort()).toEqual(["notebook", "test"]);
    for (const t of list) expect(Object.keys(t).sort()).toEqual(["createdAt", "id", "lastUsedAt", "name", "prefix"]);
    for (const secret of [created.token, aliceToken]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(crypto.createHash("sha256").update(secret).digest("hex"));
    }

    const del = await api(`/api/tokens/${created.id}`, { method: "DELETE", token: aliceToken });
    expect(del.status).toBe(204);
    await expectError(await api("/api/me", { token: created.token }), 401, "unauthorized");
    const after = (await (await api("/api/tokens", { token: aliceToken })).json()) as { id: string }[];
    expect(after.map((t) => t.id)).not.toContain(created.id);
  });

  it("audits every token created (API and CLI) and revoked, with who did it and never the token", async () => {
    const { default: Database } = await import("better-sqlite3");
    const conn = new Database(dataDir.databaseFile, { readonly: true });
    try {
      const rows = conn.prepare("SELECT action, actorEmail, targetId, before, after FROM AuditEvent WHERE action LIKE 'token.%' ORDER BY at").all() as {
        action: string;
        actorEmail: string | null;
        before: string | null;
        after: string | null;
      }[];
      expect(rows.filter((r) => r.action === "token.create" && r.actorEmail === "system:cli").length).toBeGreaterThan(0);
      const byApi = rows.filter((r) => r.action === "token.create" && r.actorEmail === ALICE.email);
      expect(byApi.length).toBeGreaterThan(0);
      expect(JSON.parse(byApi[0].after!)).toMatchObject({ id: expect.any(String), name: expect.any(String), prefix: expect.stringMatching(/^gnt_/) });
      const revoked = rows.filter((r) => r.action === "token.revoke" && r.actorEmail === ALICE.email);
      expect(revoked.length).toBe(1);
      expect(JSON.parse(revoked[0].before!)).toMatchObject({ id: expect.any(String), prefix: expect.stringMatching(/^gnt_/) });
      expect(JSON.stringify(rows)).not.toMatch(/gnt_[A-Za-z0-9_-]{20,}/);
    } finally {
      conn.close();
    }
  });

  it("answers 404 for someone else's token id and leaves it working", async () => {
    const bobs = (await (await api("/api/tokens", { token: bobToken })).json()) as { id: string }[];
    expect(bobs).toHaveLength(1);
    await expectError(await api(`/api/tokens/${bobs[0].id}`, { method: "DELETE", token: aliceToken }), 404, "not_found");
    await expectError(await api("/api/tokens/no-such-id", { method: "DELETE", token: aliceToken }), 404, "not_found");
    expect((await api("/api/me", { token: bobToken })).status).toBe(200);
  });

  it("refuses bad bodies with a 4xx and keeps serving", async () => {
    const post = (body: BodyInit, contentType = "application/json") =>
      api("/api/tokens", { method: "POST", token: aliceToken, headers: { "content-type": contentType }, body });
    await expectError(await post("{not json"), 400, "invalid_json");
    await expectError(await post(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, "invalid_encoding");
    const unknown = await expectError(await post(JSON.stringify({ name: "x", admin: true })), 422, "validation_failed");
    expect(unknown.message).toBe("Unknown field: admin");
    await expectError(await post(JSON.stringify({ name: "" })), 422, "validation_failed");
    await expectError(await post("name=x", "application/x-www-form-urlencoded"), 415, "unsupported_media_type");
    await expectError(await post(JSON.stringify({ name: "x".repeat(1024 * 1024) })), 413, "payload_too_large");
    expect((await api("/api/health")).status).toBe(200);
  });
});

describe("cookie sessions", () => {
  let admin: Session;

  beforeAll(async () => {
    const result = await login(server.url, ADMIN.email, ADMIN.password);
    expect(result.ok).toBe(true);
    admin = result.session;
  });

  it("lets the first admin (from ADMIN_EMAIL/ADMIN_PASSWORD) sign in", async () => {
    const res = await admin.fetch("/api/me");
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ email: ADMIN.email, role: "admin", name: "Administrator" });
  });

  it("refuses a wrong password: no session cookie, and /api/me stays 401", async () => {
    const { ok, session } = await login(server.url, ADMIN.email, "wrong-password-1");
    expect(ok).toBe(false);
    await expectError(await session.fetch("/api/me"), 401, "unauthorized");
  });

  it("refuses a cookie-authenticated POST without an Origin header (403 cross_origin)", async () => {
    const res = await admin.fetch("/api/tokens", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    await expectError(res, 403, "cross_origin");
  });

  it("refuses a cookie-authenticated POST and DELETE from a foreign origin", async () => {
    const post = await admin.fetch("/api/tokens", {
      method: "POST",
      headers: { "content-type": "application/json", origin: "http://evil.example" },
      body: "{}",
    });
    await expectError(post, 403, "cross_origin");
    const del = await admin.fetch("/api/tokens/anything", { method: "DELETE", headers: { origin: "null" } });
    await expectError(del, 403, "cross_origin");
    const list = (await (await admin.fetch("/api/tokens")).json()) as unknown[];
    expect(list).toEqual([]);
  });

  it("accepts a cookie-authenticated POST from the dashboard's own origin", async () => {
    const res = await admin.fetch("/api/tokens", {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.url },
      body: JSON.stringify({ name: "from the dashboard" }),
    });
    expect(res.status).toBe(201);
    expect((await res.json()).name).toBe("from the dashboard");
  });

  it.each([
    ["/settings", "/settings"],
    ["//evil.example/", "/"],
    ["https://evil.example/", "/"],
    ["/\\evil.example/", "/"],
    ["/.//evil.example/", "/"],
    ["/a/..//evil.example/", "/"],
  ])("sends a signed-in visitor of /login?next=%s to an on-site path", async (next, expected) => {
    const res = await admin.fetch(`/login?next=${encodeURIComponent(next)}`);
    expect(res.status).toBeGreaterThanOrEqual(300);
    expect(res.status).toBeLessThan(400);
    const location = res.headers.get("location") ?? "";
    const target = new URL(location, server.url);
    expect(target.origin).toBe(server.url);
    expect(target.pathname).toBe(expected);
  });

  it("ends a disabled user's session on the next request", async () => {
    const { ok, session } = await login(server.url, BOB.email, BOB.password);
    expect(ok).toBe(true);
    expect((await session.fetch("/api/me")).status).toBe(200);
    await cli(dataDir.path, ["user", "disable", "--email", BOB.email]);
    await expectError(await session.fetch("/api/me"), 401, "unauthorized");
    const again = await login(server.url, BOB.email, BOB.password);
    expect(again.ok).toBe(false);
  });
});
