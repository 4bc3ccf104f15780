import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUSYBOX_IMAGE,
  SETUP_TIMEOUT_MS,
  containersOfUsers,
  expectErrorShape,
  expectNoSecrets,
  openStream,
  rand,
  sleep,
  startSecurityEnv,
  waitFor,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";
import { CookieJar } from "../helpers/http-session";

// Sessions follow the truth: who a caller is, whether they are enabled and whether they are an admin is read from the
// database on every request. Each change is made through the admin API and checked on the very next request of a
// session cookie and of a token that existed before it, with no pause in between.

let env: SecurityEnv;
let busyboxId: string;

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-sessions-" });
  busyboxId = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.cleanup();
}, SETUP_TIMEOUT_MS);

async function expectWorks(p: Principal, path = "/api/me"): Promise<void> {
  const bySession = await env.req(path, { jar: p.jar });
  const byToken = await env.req(path, { token: p.token });
  expect([bySession.status, byToken.status], `${path}: ${bySession.text.slice(0, 100)} / ${byToken.text.slice(0, 100)}`).toEqual([200, 200]);
}

/** Signs out through next-auth like the "Sign out" button (CSRF token, then POST /api/auth/signout). */
async function signOut(jar: CookieJar): Promise<void> {
  const csrf = await env.req<{ csrfToken: string }>("/api/auth/csrf", { jar });
  const res = await env.req("/api/auth/signout", {
    method: "POST",
    jar,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken: csrf.body.csrfToken, json: "true" }).toString(),
  });
  expect(res.status, res.text).toBe(200);
}

/** A jar holding the same cookies as `jar`: a copy of the cookie taken before anything happens to it. */
function copyOf(jar: CookieJar): CookieJar {
  const copy = new CookieJar();
  copy.store(new Response(null, { headers: jar.header().split("; ").map((c) => ["set-cookie", c] as [string, string]) }));
  return copy;
}

function admin(method: string, path: string, json?: unknown) {
  return env.req(path, { method, token: env.admin.token, json });
}

describe("each change takes effect on the very next request", () => {
  it("disabling a user: her session and her token are refused at once, on reads and on writes", async () => {
    const u = await env.createUser("disabled");
    await expectWorks(u);
    const res = await admin("PATCH", `/api/admin/users/${u.id}`, { disabled: true });
    expect(res.status, res.text).toBe(200);
    expectErrorShape(await env.req("/api/me", { jar: u.jar }), 401, "unauthorized");
    expectErrorShape(await env.req("/api/me", { token: u.token }), 401, "unauthorized");
    expectErrorShape(await env.req("/api/tokens", { jar: u.jar, origin: "self", json: { name: "after-disable" } }), 401, "unauthorized");
    expectErrorShape(await env.req("/api/tokens", { token: u.token, json: { name: "after-disable" } }), 401, "unauthorized");
    expect((await env.login(u.email, u.password)).ok).toBe(false);
  });

  it("deleting a user: her session and token are refused at once, and her containers are gone", async () => {
    const u = await env.createUser("deleted");
    const launched = await env.launch(u, { name: "doomed", imageId: busyboxId });
    expect(launched.status, launched.text).toBe(201);
    await expectWorks(u);
    const res = await admin("DELETE", `/api/admin/users/${u.id}`);
    expect(res.status, res.text).toBe(204);
    expectErrorShape(await env.req("/api/me", { jar: u.jar }), 401, "unauthorized");
    expectErrorShape(await env.req("/api/me", { token: u.token }), 401, "unauthorized");
    expectErrorShape(await env.req(`/api/workspaces/${launched.body.id}/start`, { token: u.token, json: {} }), 401, "unauthorized");
    expect(await containersOfUsers([u.id])).toEqual([]);
    expect((await env.login(u.email, u.password)).ok).toBe(false);
  });

  it("revoking a token: that token is refused at once; her other token and her session go on", async () => {
    const u = await env.createUser("revoker");
    const second = await env.newToken(u, "second");
    await expectWorks(u);
    const res = await env.req(`/api/tokens/${u.tokenId}`, { method: "DELETE", token: second.token });
    expect(res.status, res.text).toBe(204);
    expectErrorShape(await env.req("/api/me", { token: u.token }), 401, "unauthorized");
    expectErrorShape(await env.req("/api/tokens", { token: u.token, json: { name: "zombie" } }), 401, "unauthorized");
    expect((await env.req("/api/me", { token: second.token })).status).toBe(200);
    expect((await env.req("/api/me", { jar: u.jar })).status).toBe(200);
    // Revoked through the dashboard (cookie, own origin) works the same.
    const viaCookie = await env.req(`/api/tokens/${second.id}`, { method: "DELETE", jar: u.jar, origin: "self" });
    expect(viaCookie.status).toBe(204);
    expectErrorShape(await env.req("/api/me", { token: second.token }), 401, "unauthorized");
  });

  it("demoting an admin: admin routes answer 403 at once to her session and her token; user routes still work", async () => {
    const a = await env.createUser("demoted", { role: "admin" });
    await expectWorks(a, "/api/admin/users");
    const res = await admin("PATCH", `/api/admin/users/${a.id}`, { role: "user" });
    expect(res.status, res.text).toBe(200);
    for (const path of ["/api/admin/users", "/api/admin/settings", "/api/admin/audit", "/api/workspaces?all=1"]) {
      expectErrorShape(await env.req(path, { jar: a.jar }), 403, "forbidden");
      expectErrorShape(await env.req(path, { token: a.token }), 403, "forbidden");
    }
    expectErrorShape(await env.req("/api/admin/users", { jar: a.jar, origin: "self", json: { email: `x-${rand()}@gantry.test`, password: "password-123", role: "admin" } }), 403, "forbidden");
    expect((await env.req("/api/me", { jar: a.jar })).body.role).toBe("user");
    await expectWorks(a);
  });

  it("promoting a user: admin routes open at once", async () => {
    const u = await env.createUser("promoted");
    expectErrorShape(await env.req("/api/admin/users", { token: u.token }), 403, "forbidden");
    expect((await admin("PATCH", `/api/admin/users/${u.id}`, { role: "admin" })).status).toBe(200);
    await expectWorks(u, "/api/admin/users");
    // Demote again: the last-admin rule is about the first admin, who stays.
    expect((await admin("PATCH", `/api/admin/users/${u.id}`, { role: "user" })).status).toBe(200);
  });

  it("a password reset by an admin, or changed by the user, ends the sessions that existed before it", async () => {
    const u = await env.createUser("reset");
    await expectWorks(u);
    expect((await admin("PATCH", `/api/admin/users/${u.id}`, { password: "new-password-by-admin" })).status).toBe(200);
    expectErrorShape(await env.req("/api/me", { jar: u.jar }), 401, "unauthorized");
    const fresh = await env.login(u.email, "new-password-by-admin");
    expect(fresh.ok).toBe(true);
    env.secrets.passwords.add("new-password-by-admin");
    const other = await env.login(u.email, "new-password-by-admin");
    const changed = await env.req("/api/me/password", { jar: fresh.jar, origin: "self", json: { currentPassword: "new-password-by-admin", newPassword: "changed-by-user-1" } });
    expect(changed.status, changed.text).toBe(200);
    env.secrets.passwords.add("changed-by-user-1");
    expectErrorShape(await env.req("/api/me", { jar: other.jar }), 401, "unauthorized");
  });
});

describe("signing out", () => {
  it("ends the session on the server: the cookie and any copy of it are refused at once; her other session and token go on", async () => {
    const u = await env.createUser("signout");
    const other = await env.login(u.email, u.password);
    const copy = copyOf(u.jar);
    await expectWorks(u);
    expect((await env.req("/api/me", { jar: copy })).status).toBe(200);
    await signOut(u.jar);
    expectErrorShape(await env.req("/api/me", { jar: copy }), 401, "unauthorized");
    expectErrorShape(await env.req("/api/tokens", { jar: copy, origin: "self", json: { name: "after sign-out" } }), 401, "unauthorized");
    // A page too: the copy is sent to the login page.
    const page = await env.req("/", { jar: copyOf(copy) });
    expect([302, 303, 307, 308], page.text.slice(0, 200)).toContain(page.status);
    expect(new URL(page.headers.get("location") ?? "", env.url).pathname).toBe("/login");
    expect((await env.req("/api/me", { jar: other.jar })).status).toBe(200);
    expect((await env.req("/api/me", { token: u.token })).status).toBe(200);
  });
});

describe("open event streams", () => {
  it("a disabled user's, a demoted admin's, a signed-out session's and a revoked token's streams are ended within 20 s", async () => {
    const u = await env.createUser("streamer");
    const a = await env.createUser("stream-admin", { role: "admin" });
    const s = await env.createUser("stream-signout");
    const copy = copyOf(s.jar);
    const userStream = await openStream(env, "/api/events", { jar: u.jar });
    const adminStream = await openStream(env, "/api/events", { token: a.token });
    const copyStream = await openStream(env, "/api/events", { jar: copy });
    const tokenStream = await openStream(env, "/api/events", { token: s.token });
    expect([userStream.status, adminStream.status, copyStream.status, tokenStream.status]).toEqual([200, 200, 200, 200]);
    expect((await admin("PATCH", `/api/admin/users/${u.id}`, { disabled: true })).status).toBe(200);
    expect((await admin("PATCH", `/api/admin/users/${a.id}`, { role: "user" })).status).toBe(200);
    await signOut(s.jar);
    expect((await env.req(`/api/tokens/${s.tokenId}`, { method: "DELETE", token: s.token })).status).toBe(204);
    const t0 = Date.now();
    const streams = [userStream, adminStream, copyStream, tokenStream];
    await waitFor("the four streams to end", async () => streams.map((x) => x.isClosed()), (v) => v.every(Boolean), 20_000, 250);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it("a demoted admin's open stream carries no event about another user's workspace after the demotion", async () => {
    const owner = await env.createUser("owner");
    const a = await env.createUser("watcher", { role: "admin" });
    const launched = await env.launch(owner, { name: "watched", imageId: busyboxId });
    expect(launched.status, launched.text).toBe(201);
    const stream = await openStream(env, "/api/events", { token: a.token });
    await sleep(300);
    // As an admin she sees other users' workspaces: that is the point of the check below.
    expect((await admin("PATCH", `/api/admin/users/${a.id}`, { role: "user" })).status).toBe(200);
    const mark = stream.text().length;
    const stopped = await env.req(`/api/workspaces/${launched.body.id}/stop`, { token: owner.token, json: {} });
    expect(stopped.status, stopped.text).toBe(200);
    await sleep(1000);
    const after = stream.text().slice(mark);
    stream.close();
    expect(after.includes(launched.body.id), `events received after the demotion:\n${after.slice(0, 1000)}`).toBe(false);
  });
});

describe("the whole file", () => {
  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});
