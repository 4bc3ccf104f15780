import crypto from "node:crypto";
import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { freePort } from "../helpers/gantry-server";
import { login, type Session } from "../helpers/http-session";
import { seedLoginUser, type LoginUser } from "../helpers/proxy";
import { BUSYBOX_IMAGE, JUPYTER_COMMAND, JUPYTER_IMAGE, startGantry, waitFor, type GantryEnv } from "../helpers/workspaces";
import { openWebSocket, type WsOpen } from "../helpers/ws-client";

// GANTRY_PROXY_HOST_PATTERN: every workspace on a host, and so an origin, of its own (<id>.ws.localhost here), so
// that one workspace's pages cannot read another's even in the same browser. The client connects to 127.0.0.1 and
// names the host in the Host header, as a browser resolving the wildcard name to this server would.

const PATTERN = "{id}.ws.localhost";

let g: GantryEnv;
let dataDir: DataDir;
let proxyPort: number;
let alice: LoginUser;
let aliceSession: Session;
let A: { id: string; url: string }; // alice's Jupyter workspace
let B: { id: string; url: string }; // alice's busybox workspace
const cookies = new Map<string, string>(); // proxy cookies, per host (host-only cookies, as a browser keeps them)

const hostOf = (id: string) => `${id}.ws.localhost:${proxyPort}`;
const originOf = (id: string) => `http://${hostOf(id)}`;
const cookieName = (id: string) => `gantry_proxy_${id}`;

type Answer = { status: number; headers: http.IncomingHttpHeaders; text: string };

/** A request to the proxy port with the given Host, carrying the cookies a browser keeps for that host. */
function onHost(host: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host, ...init.headers };
    const jar = cookies.get(host.toLowerCase());
    if (jar && !headers.cookie) headers.cookie = jar;
    const req = http.request({ host: "127.0.0.1", port: proxyPort, path, method: init.method ?? "GET", headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        for (const line of res.headers["set-cookie"] ?? []) {
          const pair = line.split(";")[0];
          cookies.set(host.toLowerCase(), [cookies.get(host.toLowerCase()), pair].filter(Boolean).join("; "));
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/** The start on the workspace's own host (a nonce cookie there), /open/<id> on the dashboard, then the grant there. */
async function handshake(id: string): Promise<{ grantUrl: URL; grant: Answer }> {
  const start = await onHost(hostOf(id), `/w/${id}/_gantry/start`);
  expect(start.status, start.text).toBe(302);
  const state = new URL(start.headers.location!).searchParams.get("state");
  expect(state).toBeTruthy();
  const open = await aliceSession.fetch(`/open/${id}?state=${state}`);
  expect(open.status, await open.text()).toBe(307);
  const grantUrl = new URL(open.headers.get("location")!);
  const grant = await onHost(grantUrl.host, grantUrl.pathname + grantUrl.search);
  return { grantUrl, grant };
}

beforeAll(async () => {
  const port = await freePort();
  proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  dataDir = makeDataDir("gantry-proxy-hosts-");
  g = await startGantry({ dataDir, port, proxyPort, env: { GANTRY_PUBLIC_URL: `http://localhost:${port}`, GANTRY_PROXY_HOST_PATTERN: PATTERN } });
  alice = await seedLoginUser(g, "alice");
  const jupyter = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  const busybox = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE });
  const a = await g.api("/api/workspaces", { token: alice.token, json: { name: "notebook", imageId: jupyter, gpus: 0, memoryGb: 1, cpus: 0.5 } });
  if (a.status !== 201) throw new Error(`launching A answered ${a.status}: ${a.text}`);
  A = a.body;
  const b = await g.api("/api/workspaces", { token: alice.token, json: { name: "shell", imageId: busybox, gpus: 0, memoryGb: 1, cpus: 0.5 } });
  if (b.status !== 201) throw new Error(`launching B answered ${b.status}: ${b.text}`);
  B = b.body;
  const signedIn = await login(g.url, alice.email, alice.password);
  if (!signedIn.ok) throw new Error("alice could not sign in");
  aliceSession = signedIn.session;
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  dataDir?.remove();
});

describe("GANTRY_PROXY_HOST_PATTERN: a host per workspace", () => {
  it("each workspace's url is on its own host, with the proxy's port", () => {
    expect(A.url).toBe(`${originOf(A.id)}/w/${A.id}/`);
    expect(B.url).toBe(`${originOf(B.id)}/w/${B.id}/`);
  });

  it("/open/<id> sends the browser to the grant on the workspace's own host; the cookie is host-only", async () => {
    const { grantUrl, grant } = await handshake(A.id);
    expect(grantUrl.origin).toBe(originOf(A.id));
    expect(grant.status).toBe(302);
    expect(grant.headers.location).toBe(`/w/${A.id}/`);
    const setCookie = (grant.headers["set-cookie"] ?? []).find((c) => c.startsWith(`${cookieName(A.id)}=`));
    expect(setCookie).toBeDefined();
    expect(setCookie!.toLowerCase()).not.toContain("domain=");
    await handshake(B.id);
  });

  it("the owner reaches Jupyter on A's host, over HTTP and over a WebSocket from A's origin", async () => {
    const kernels = await waitFor("Jupyter to answer on A's host", () => onHost(hostOf(A.id), `/w/${A.id}/api/kernels`), (r) => r.status === 200, 90_000, 500);
    expect(JSON.parse(kernels.text)).toEqual(expect.any(Array));
    const started = await onHost(hostOf(A.id), `/w/${A.id}/api/kernels`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: originOf(A.id) },
      body: JSON.stringify({ name: "python3" }),
    });
    expect(started.status, started.text).toBe(201);
    const kernelId = JSON.parse(started.text).id as string;
    const channels = `ws://127.0.0.1:${proxyPort}/w/${A.id}/api/kernels/${kernelId}/channels?session_id=${crypto.randomUUID()}`;
    const cookie = cookies.get(hostOf(A.id))!;

    const own = await openWebSocket(channels, { host: hostOf(A.id), origin: originOf(A.id), cookie });
    expect(own.ok, JSON.stringify(own)).toBe(true);
    (own as WsOpen).close();
    // Another workspace's origin is a foreign origin now, even one of the same user's.
    const fromB = await openWebSocket(channels, { host: hostOf(A.id), origin: originOf(B.id), cookie });
    expect({ ok: fromB.ok, status: fromB.status }).toEqual({ ok: false, status: 403 });
    // A's path asked on B's host (where a page of B could send it) is not A's.
    const onB = await openWebSocket(channels, { host: hostOf(B.id), origin: originOf(B.id), cookie });
    expect({ ok: onB.ok, status: onB.status }).toEqual({ ok: false, status: 404 });
  });

  it("a page of workspace B cannot read workspace A: /w/A/ on B's host is 404, even with A's cookie", async () => {
    const withBCookies = await onHost(hostOf(B.id), `/w/${A.id}/api/kernels`);
    expect(withBCookies.status).toBe(404);
    const withACookie = await onHost(hostOf(B.id), `/w/${A.id}/api/kernels`, { headers: { cookie: cookies.get(hostOf(A.id))! } });
    expect(withACookie.status).toBe(404);
    const post = await onHost(hostOf(B.id), `/w/${A.id}/api/kernels`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: originOf(B.id), cookie: cookies.get(hostOf(A.id))! },
      body: JSON.stringify({ name: "python3" }),
    });
    expect(post.status).toBe(404);
  });

  it("the bare proxy host serves no workspace, and a grant is not redeemed on another host", async () => {
    const bare = await onHost(`127.0.0.1:${proxyPort}`, `/w/${A.id}/api/kernels`, { headers: { cookie: cookies.get(hostOf(A.id))! } });
    expect(bare.status).toBe(404);
    const open = await aliceSession.fetch(`/open/${A.id}`);
    const grantUrl = new URL(open.headers.get("location")!);
    const elsewhere = await onHost(hostOf(B.id), grantUrl.pathname + grantUrl.search, { headers: { cookie: "" } });
    expect(elsewhere.status).toBe(404);
    expect(elsewhere.headers["set-cookie"]).toBeUndefined();
  });

  it("a state change on A's host from B's origin is refused", async () => {
    const res = await onHost(hostOf(A.id), `/w/${A.id}/api/kernels`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: originOf(B.id) },
      body: JSON.stringify({ name: "python3" }),
    });
    expect(res.status).toBe(403);
  });
});
