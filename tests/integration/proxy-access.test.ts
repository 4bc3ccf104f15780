import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/gantry-server";
import { cli, createTokenWithCli } from "../helpers/run-cli";
import { BrowserLike, Recorder, seedLoginUser, type LoginUser } from "../helpers/proxy";
import { BUSYBOX_IMAGE, JUPYTER_COMMAND, JUPYTER_IMAGE, docker, envValue, inspect, startGantry, unique, waitFor, type GantryEnv } from "../helpers/workspaces";
import { openWebSocket, type WsOpen } from "../helpers/ws-client";

// The proxy decides requests from an in-memory cache (lib/proxy/access-cache.ts) that events drop. These tests warm
// that cache with real requests first, then change something through the real server (or the CLI, another process)
// and check the very next proxied request: refused after a disable, a deletion, a demotion or a settings change, and
// answered by the new container after stop → start (a new address) and reset (a new Jupyter token).

const HOLDER_LABEL = "gantry-test.proxy-access";
const RUN_ID = crypto.randomBytes(4).toString("hex");

let g: GantryEnv;
let proxyUrl: string;
let alice: LoginUser;
let carol: LoginUser; // a second admin
let A: any; // alice's Jupyter workspace
let kernelId: string;
let browser: BrowserLike;
let carolBrowser: BrowserLike;
const recorder = new Recorder();

const statusPath = (id: string) => `/w/${id}/api/status`;

function cookieFor(b: BrowserLike): string {
  return b.proxyJar.header();
}

async function proxied(b: BrowserLike = browser): Promise<number> {
  return (await b.proxy(statusPath(A.id))).status;
}

function channels(b: BrowserLike, kernel: string) {
  return openWebSocket(`${proxyUrl}/w/${A.id}/api/kernels/${kernel}/channels?session_id=${crypto.randomUUID()}`, { origin: proxyUrl, cookie: cookieFor(b) });
}

async function startKernel(): Promise<string> {
  const res = await browser.proxy(`/w/${A.id}/api/kernels`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "python3" }) });
  expect(res.status, res.text).toBe(201);
  return JSON.parse(res.text).id;
}

async function expectSocketOpens(b: BrowserLike, kernel: string): Promise<void> {
  const sock = await channels(b, kernel);
  expect(sock.ok, JSON.stringify(sock)).toBe(true);
  (sock as WsOpen).close();
}

async function waitForJupyter(): Promise<void> {
  await waitFor("Jupyter to answer through the proxy", () => proxied(), (s) => s === 200, 90_000, 300);
}

function addressOf(info: Awaited<ReturnType<typeof inspect>>): string | undefined {
  return info?.NetworkSettings.Networks?.["gantry-workspaces"]?.IPAddress;
}

beforeAll(async () => {
  const port = await freePort();
  let proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  // A dashboard on localhost: each workspace on <id>.localhost, which admin access to other users' workspaces needs.
  g = await startGantry({ prefix: "gantry-proxy-access-", port, proxyPort, env: { GANTRY_PUBLIC_URL: `http://localhost:${port}` } });
  alice = await seedLoginUser(g, "alice");
  const email = `${unique("carol")}@gantry.test`;
  const password = `pw-${crypto.randomBytes(9).toString("hex")}`;
  const out = await cli(g.dataDir.path, ["user", "create", "--email", email, "--password", password, "--admin"]);
  const id = /\((c[a-z0-9]+)\)/.exec(out)?.[1];
  if (!id) throw new Error(`gantry user create printed no id: ${out}`);
  carol = { email, id, password, token: await createTokenWithCli(g.dataDir.path, email) };
  g.users.push(carol);

  const imageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  const a = await g.api("/api/workspaces", { token: alice.token, json: { name: "notebook", imageId, gpus: 0, memoryGb: 1, cpus: 0.5 } });
  if (a.status !== 201) throw new Error(`launching A answered ${a.status}: ${a.text}`);
  A = a.body;
  proxyUrl = new URL(A.url).origin;
  expect(proxyUrl).toBe(`http://${A.id}.localhost:${proxyPort}`);
  browser = await BrowserLike.signIn(g, proxyUrl, alice, recorder);
  await browser.handshake(A.id);
  await waitForJupyter();
  kernelId = await startKernel();
}, 300_000);

afterAll(async () => {
  const holders = await docker.listContainers({ all: true, filters: { label: [`${HOLDER_LABEL}=${RUN_ID}`] } }).catch(() => []);
  for (const c of holders) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("a change refuses the very next proxied request", () => {
  it("a user disabled by an admin: 404 over HTTP and WebSocket at once; enabled again, the same cookie works", async () => {
    expect(await proxied()).toBe(200);
    await expectSocketOpens(browser, kernelId);
    await g.patchUser(alice.id, { disabled: true });
    expect(await proxied()).toBe(404);
    const sock = await channels(browser, kernelId);
    expect({ ok: sock.ok, status: sock.status }).toEqual({ ok: false, status: 404 });

    await g.patchUser(alice.id, { disabled: false });
    expect(await proxied()).toBe(200);
    await expectSocketOpens(browser, kernelId);
  });

  it("a user disabled with the CLI (another process, no event): refused within the cache's few seconds", async () => {
    expect(await proxied()).toBe(200);
    await cli(g.dataDir.path, ["user", "disable", "--email", alice.email]);
    const disabledAt = Date.now();
    await waitFor("the proxy to refuse the disabled user", () => proxied(), (s) => s === 404, 10_000, 100);
    // USER_TTL_MS is 2 s; allow for a busy machine.
    expect(Date.now() - disabledAt).toBeLessThan(5_000);
    await cli(g.dataDir.path, ["user", "enable", "--email", alice.email]);
    await waitFor("the proxy to let the enabled user in again", () => proxied(), (s) => s === 200, 10_000, 100);
  });

  it("an admin let in by the setting: refused at once when demoted, and when the setting is turned off", async () => {
    await g.setAdminAccess(true);
    try {
      carolBrowser = await BrowserLike.signIn(g, proxyUrl, carol, recorder);
      await carolBrowser.handshake(A.id);
      expect(await proxied(carolBrowser)).toBe(200);
      await g.patchUser(carol.id, { role: "user" });
      expect(await proxied(carolBrowser)).toBe(404);
      await g.patchUser(carol.id, { role: "admin" });
      expect(await proxied(carolBrowser)).toBe(200);
    } finally {
      await g.setAdminAccess(false);
    }
    expect(await proxied(carolBrowser)).toBe(404);
    // The owner is not affected by the admin setting.
    expect(await proxied()).toBe(200);
  });

  it("a deleted user: refused at once", async () => {
    await g.setAdminAccess(true);
    try {
      expect(await proxied(carolBrowser)).toBe(200);
      const del = await g.api(`/api/admin/users/${carol.id}`, { method: "DELETE", token: g.adminToken });
      expect(del.status, del.text).toBe(204);
      // The user and so their dashboard session are gone: the proxy session counts as none (401, or sign-in for pages).
      expect(await proxied(carolBrowser)).toBe(401);
    } finally {
      await g.setAdminAccess(false);
    }
    expect(await proxied()).toBe(200);
  });
});

describe("a new container behind the same workspace", () => {
  it("stop → start: 503 while stopped, then the container, started again at a new address, answers through the same cookie", async () => {
    expect(await proxied()).toBe(200);
    const before = await inspect(A.containerId);
    const oldAddress = addressOf(before);
    expect(oldAddress).toBeTruthy();
    const stopped = await g.api(`/api/workspaces/${A.id}/stop`, { method: "POST", token: alice.token, json: {} });
    expect(stopped.status, stopped.text).toBe(200);
    expect(stopped.body.status).toBe("stopped");
    const refused = await browser.proxy(statusPath(A.id));
    expect(refused.status, refused.text).toBe(503);

    // Docker hands a freed address to the next container that asks: take it, so that the workspace cannot get it back.
    const holder = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ["sleep", "600"],
      Labels: { [HOLDER_LABEL]: RUN_ID },
      HostConfig: { NetworkMode: "gantry-workspaces", Memory: 64 * 1024 * 1024 },
    });
    try {
      await holder.start();
      const started = await g.api(`/api/workspaces/${A.id}/start`, { method: "POST", token: alice.token, json: {} });
      expect(started.status, started.text).toBe(200);
      expect(started.body.status).toBe("running");
      A = started.body;
      const newAddress = addressOf(await inspect(A.containerId));
      expect(newAddress).toBeTruthy();
      expect(newAddress).not.toBe(oldAddress);
      await waitForJupyter();
    } finally {
      await holder.remove({ force: true });
    }
  });

  it("reset: a new container with a new Jupyter token answers through the same cookie", async () => {
    expect(await proxied()).toBe(200);
    const oldToken = envValue((await inspect(A.containerId))!, "JUPYTER_TOKEN");
    const reset = await g.api(`/api/workspaces/${A.id}/reset`, { method: "POST", token: alice.token, json: {} });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.status).toBe("running");
    A = reset.body;
    expect(envValue((await inspect(A.containerId))!, "JUPYTER_TOKEN")).not.toBe(oldToken);
    // Jupyter answers 403 to a wrong token: 200 means the proxy sent the new one.
    await waitForJupyter();
  });

  it("a deleted workspace: 404 over HTTP and WebSocket at the very next request", async () => {
    const kernel = await startKernel();
    await expectSocketOpens(browser, kernel);
    expect(await proxied()).toBe(200);
    const del = await g.api(`/api/workspaces/${A.id}`, { token: alice.token, method: "DELETE" });
    expect(del.status, del.text).toBe(204);
    expect(await proxied()).toBe(404);
    const sock = await channels(browser, kernel);
    expect({ ok: sock.ok, status: sock.status }).toEqual({ ok: false, status: 404 });
  });
});
