import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../helpers/workspaces";
import {
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  SETUP_TIMEOUT_MS,
  docker,
  expectNoSecrets,
  openStream,
  rand,
  serverLog,
  sha256,
  startSecurityEnv,
  waitFor,
  type OpenStream,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// Secrets in the wrong place. A whole session of use — launch a real Jupyter (which prints its token into its own
// log), read the logs, reset (a new token), look at everything an admin can see, the audit log, the event streams,
// failed sign-ins and error answers — and then every answer and the server's whole log are searched for Jupyter
// tokens, bcrypt hashes, token hashes and the session secret. (Every other security-*.test.ts file ends with the
// same search over its own answers and log.)

let env: SecurityEnv;
let user: Principal;
let other: Principal;
let jupyterId: string;
let wsId: string;
let userEvents: OpenStream;
let adminEvents: OpenStream;

/** The Docker log of a container, straight from the engine (where Jupyter prints its token). */
async function dockerLogs(containerId: string): Promise<string> {
  const buf = (await docker.getContainer(containerId).logs({ stdout: true, stderr: true, tail: 500 })) as unknown as Buffer;
  return buf.toString("utf8");
}

/**
 * Jupyter 6 masks the token in its own start-up lines ("?token=..."), but user code prints what it likes: a cell
 * that prints os.environ puts the token into the container's log. Do that (as the container's user, into PID 1's
 * stdout) and wait until the engine's log holds it, so the search has something real to find.
 */
async function printTokenIntoLog(containerId: string, token: string): Promise<void> {
  await waitFor("Jupyter to start", () => dockerLogs(containerId), (text) => text.includes("is running at"), 60_000, 1000);
  const printed = await exec(containerId, ["sh", "-c", 'echo "a notebook cell printed JUPYTER_TOKEN=$JUPYTER_TOKEN" > /proc/1/fd/1']);
  expect(printed.exitCode, printed.stderr).toBe(0);
  await waitFor("the token in the container's log", () => dockerLogs(containerId), (text) => text.includes(token), 15_000, 500);
}

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-secrets-" });
  jupyterId = await env.addImage(`jupyter-${rand()}`, JUPYTER_IMAGE, JUPYTER_COMMAND);
  user = await env.createUser("secrets");
  other = await env.createUser("other");
  userEvents = await openStream(env, "/api/events", { token: user.token });
  adminEvents = await openStream(env, "/api/events", { jar: env.admin.jar });
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  userEvents?.close();
  adminEvents?.close();
  await env?.cleanup();
}, SETUP_TIMEOUT_MS);

describe("a session of ordinary use", () => {
  it("launch a real Jupyter; its own log holds the token, Gantry's logs endpoint hides it", async () => {
    const res = await env.launch(user, { name: "notebook", imageId: jupyterId, memoryGb: 1 });
    expect(res.status, res.text).toBe(201);
    wsId = res.body.id;
    await env.inspect(res.body.containerId);
    const token = [...env.secrets.jupyterTokens][0];
    expect(token).toMatch(/^\S{32,}$/);
    await printTokenIntoLog(res.body.containerId, token);
    const logs = await env.req<{ lines: string[] }>(`/api/workspaces/${wsId}/logs?tail=500`, { token: user.token });
    expect(logs.status).toBe(200);
    expect(logs.text).toContain("[token hidden]");
    expect(logs.text).not.toContain(token);
  });

  it("reset: a new token, hidden the same way", async () => {
    const res = await env.req(`/api/workspaces/${wsId}/reset`, { token: user.token, json: {} });
    expect(res.status, res.text).toBe(200);
    await env.inspect(res.body.containerId);
    expect(env.secrets.jupyterTokens.size).toBe(2);
    const newest = [...env.secrets.jupyterTokens][1];
    await printTokenIntoLog(res.body.containerId, newest);
    const logs = await env.req(`/api/workspaces/${wsId}/logs?tail=500`, { token: user.token });
    expect(logs.text).toContain("[token hidden]");
    expect(logs.text).not.toContain(newest);
  });

  it("everything a user and an admin can read", async () => {
    for (const p of ["/api/me", "/api/tokens", "/api/workspaces", `/api/workspaces/${wsId}`, "/api/images"]) {
      expect((await env.req(p, { token: user.token })).status, p).toBe(200);
    }
    for (const p of ["/api/admin/users", "/api/workspaces?all=1", "/api/admin/images", "/api/admin/settings", "/api/admin/gpus", `/api/admin/users/${user.id}/quota`]) {
      expect((await env.req(p, { token: env.admin.token })).status, p).toBe(200);
    }
    const audit = await env.req<{ total: number; events: unknown[] }>("/api/admin/audit?pageSize=200", { token: env.admin.token });
    expect(audit.status).toBe(200);
    // The audit log records the launch and the reset (with the workspace's before/after state).
    expect(audit.text).toContain("workspace.launch");
    expect(audit.text).toContain("workspace.reset");
    // Workspaces open in a signed-in browser only: a token gets a sentence, no grant (the handshake: proxy.test.ts).
    const open = await env.req(`/open/${wsId}`, { token: user.token });
    expect(open.status).toBe(403);
    expect(open.headers.get("location")).toBeNull();
  });

  it("admin changes that carry secrets in their input: a user created, a password reset, a token minted", async () => {
    const created = await env.req("/api/admin/users", { token: env.admin.token, json: { email: `made-${rand()}@gantry.test`, password: "made-password-1" } });
    expect(created.status).toBe(201);
    env.secrets.passwords.add("made-password-1");
    const reset = await env.req(`/api/admin/users/${other.id}`, { method: "PATCH", token: env.admin.token, json: { password: "reset-password-1" } });
    expect(reset.status).toBe(200);
    env.secrets.passwords.add("reset-password-1");
    const minted = await env.newToken(user, "minted");
    const changed = await env.req("/api/me/password", { token: user.token, json: { currentPassword: user.password, newPassword: "changed-password-1" } });
    expect(changed.status).toBe(200);
    env.secrets.passwords.add("changed-password-1");
    const listed = await env.req("/api/tokens", { token: user.token });
    expect(listed.text).not.toContain(minted.token);
    expect(listed.text).not.toContain(sha256(minted.token));
    const audit = await env.req("/api/admin/audit?pageSize=200", { token: env.admin.token });
    expect(audit.text).not.toMatch(/made-password-1|reset-password-1|changed-password-1/);
  });

  it("failures: wrong passwords, bad tokens, someone else's workspace, bad bodies", async () => {
    expect((await env.login(user.email, "wrong-password")).ok).toBe(false);
    expect((await env.req("/api/me", { token: `gnt_${rand(32)}` })).status).toBe(401);
    expect((await env.req(`/api/workspaces/${wsId}/logs`, { token: other.token })).status).toBe(404);
    expect((await env.req("/api/workspaces", { token: user.token, body: '{"name":' })).status).toBe(400);
    expect((await env.req("/api/admin/users", { token: env.admin.token, json: { email: "x", password: "short" } })).status).toBe(422);
  });
});

describe("the search", () => {
  it("no answer (bodies, headers, event streams) and no server log line holds a Jupyter token, a bcrypt hash, a token hash or the session secret", async () => {
    userEvents.close();
    adminEvents.close();
    await Promise.all([userEvents.closed, adminEvents.closed]);
    // The streams did carry the workspace's events: they were worth searching.
    expect(userEvents.text()).toContain(wsId);
    expect(adminEvents.text()).toContain(wsId);
    const summary = await expectNoSecrets(env);
    expect(summary.answers).toBeGreaterThan(20);
    expect(env.secrets.jupyterTokens.size).toBeGreaterThanOrEqual(2);

    const secret = fs.readFileSync(path.join(env.dataDir.path, "nextauth-secret"), "utf8").trim();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(env.transcript.containing(secret)).toEqual([]);
    expect(serverLog(env)).not.toContain(secret);
  });
});
