import { execFile } from "node:child_process";
import crypto from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../helpers/paths";
import { seedLoginUser, type LoginUser } from "../helpers/proxy";
import { JUPYTER_COMMAND, JUPYTER_IMAGE, envValue, inspect, launchJupyterWorkspace, startGantry, type GantryEnv } from "../helpers/workspaces";
import { openWebSocket, type WsOpen } from "../helpers/ws-client";

// Jupyter clients with a Gantry API token: the proxy takes the owner's token (Authorization: token gnt_…, or
// ?token=gnt_… for clients that only take a URL) for that workspace's REST API and kernel WebSockets. The client is
// a real one, Debian's python3-requests and python3-websocket (tests/fixtures/jupyter-token-client.py), and runs 6*7.

const run = promisify(execFile);
// Debian's interpreter, where python3-requests and python3-websocket are installed (scripts/ci/install-prereqs.sh).
const PYTHON = "/usr/bin/python3";
const CLIENT = path.join(REPO_ROOT, "tests", "fixtures", "jupyter-token-client.py");

let g: GantryEnv;
let alice: LoginUser;
let bob: LoginUser;
let A: { id: string; url: string; containerId: string };
let jupyterToken: string;

async function client(token: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(PYTHON, [CLIENT, A.url, token], { timeout: 90_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

async function newToken(user: LoginUser, name: string): Promise<{ id: string; token: string }> {
  const res = await g.api("/api/tokens", { token: user.token, json: { name } });
  expect(res.status, res.text).toBe(201);
  return { id: res.body.id, token: res.body.token };
}

const statusWith = async (token: string, how: "header" | "query" = "header") => {
  const url = new URL(`${A.url}api/status`);
  if (how === "query") url.searchParams.set("token", token);
  const res = await fetch(url, { headers: how === "header" ? { authorization: `token ${token}` } : {} });
  return { status: res.status, text: await res.text() };
};

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-proxy-token-" });
  alice = await seedLoginUser(g, "alice");
  bob = await seedLoginUser(g, "bob");
  const imageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  A = await launchJupyterWorkspace(g, alice.token, { name: "notebook", imageId });
  jupyterToken = envValue((await inspect(A.containerId))!, "JUPYTER_TOKEN")!;
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("a Jupyter client with the owner's Gantry API token", () => {
  it("reaches the REST API (header and query) and runs 6*7 over the kernel WebSocket, reading 42", async () => {
    const seen = await client(alice.token);
    expect(seen).toEqual({ status: 200, status_by_query: 200, kernel_create: 201, result: "42", kernel_delete: 204 });
  });

  it("as `Bearer gnt_…` too; the workspace's own Jupyter token is in no answer", async () => {
    const res = await fetch(`${A.url}api/kernels`, { headers: { authorization: `Bearer ${alice.token}` } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).not.toContain(jupyterToken);
  });

  it("needs no Origin (nothing ambient), and a cookie never stands in for a bad token", async () => {
    const post = await fetch(`${A.url}api/contents`, { method: "POST", headers: { authorization: `token ${alice.token}`, "content-type": "application/json" }, body: '{"type":"notebook"}' });
    expect(post.status, await post.text()).toBe(201);
    expect((await statusWith("gnt_not-a-real-token")).status).toBe(401);
  });

  it("another user's token gets 404, over HTTP and WebSocket; an admin's token too (tokens open their owner's workspaces only)", async () => {
    for (const token of [bob.token, g.adminToken]) {
      expect((await statusWith(token)).status).toBe(404);
      expect((await statusWith(token, "query")).status).toBe(404);
      const sock = await openWebSocket(`${A.url.replace("http", "ws")}api/kernels/${crypto.randomUUID()}/channels?token=${token}`);
      expect({ ok: sock.ok, status: sock.status }).toEqual({ ok: false, status: 404 });
    }
  });

  it("an unknown or revoked token gets 401, the revoked one at its very next request", async () => {
    const { id, token } = await newToken(alice, "vscode");
    expect((await statusWith(token)).status).toBe(200);
    const revoke = await g.api(`/api/tokens/${id}`, { method: "DELETE", token: alice.token });
    expect(revoke.status, revoke.text).toBe(204);
    expect((await statusWith(token)).status).toBe(401);
    expect((await statusWith(token, "query")).status).toBe(401);
  });

  it("a kernel WebSocket opened with a token closes within 15 s of the token's revocation", async () => {
    const { id, token } = await newToken(alice, "notebook-client");
    const kernel = await fetch(`${A.url}api/kernels`, { method: "POST", headers: { authorization: `token ${token}`, "content-type": "application/json" }, body: '{"name":"python3"}' });
    expect(kernel.status).toBe(201);
    const kernelId = ((await kernel.json()) as { id: string }).id;
    const sock = await openWebSocket(`${A.url.replace("http", "ws")}api/kernels/${kernelId}/channels?session_id=${crypto.randomUUID()}`, { authorization: `token ${token}` });
    expect(sock.ok, JSON.stringify(sock)).toBe(true);
    const at = Date.now();
    const revoke = await g.api(`/api/tokens/${id}`, { method: "DELETE", token: alice.token });
    expect(revoke.status).toBe(204);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      (sock as WsOpen).closed,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error("the socket stayed open 15 s after the revocation")), 15_000))),
    ]).finally(() => clearTimeout(timer));
    expect(Date.now() - at).toBeLessThan(15_000);
  });

  it("the Gantry token never reaches the workspace: the query parameter is taken out before the request goes on", async () => {
    // Jupyter answers 403 to a wrong ?token=… when no other credential is given; the proxy's own Authorization wins
    // only if the Gantry token is gone from the URL, so a 200 here means it was removed.
    const res = await statusWith(alice.token, "query");
    expect(res.status).toBe(200);
    const logs = await g.api(`/api/workspaces/${A.id}/logs`, { token: alice.token });
    expect(logs.text).not.toContain(alice.token);
  });
});
