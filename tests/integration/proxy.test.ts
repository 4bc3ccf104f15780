import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { SignJWT, decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { freePort } from "../helpers/gantry-server";
import { login, SESSION_COOKIE } from "../helpers/http-session";
import { BrowserLike, Recorder, jupyterMessage, seedLoginUser, setCookieNamed, type LoginUser } from "../helpers/proxy";
import {
  ADMIN_EMAIL,
  BUSYBOX_IMAGE,
  JUPYTER_COMMAND,
  JUPYTER_IMAGE,
  envValue,
  inspect,
  startGantry,
  waitFor,
  type GantryEnv,
} from "../helpers/workspaces";
import { openWebSocket, type WsOpen, type WsResult } from "../helpers/ws-client";

// The workspace proxy on its own origin, end to end: one real server (dashboard on localhost:PORT, proxy on
// 127.0.0.1:PROXY_PORT), two users signed in through next-auth like browsers, and the real Jupyter notebook 6.4
// test image in a real container. The steps build on each other: one Jupyter workspace (alice's, "A") and one
// busybox workspace (bob's, "B"), launched once; A is reset and finally deleted at the end.

const ADMIN_PASSWORD = "admin-password-123"; // startServer's default for the first admin
const EVIL_ORIGIN = "http://evil.example";

let g: GantryEnv;
let dataDir: DataDir;
let dashboardPublic: string; // GANTRY_PUBLIC_URL: http://localhost:PORT
let proxyUrl: string; // the proxy's own origin: http://127.0.0.1:PROXY_PORT
let alice: LoginUser;
let bob: LoginUser;
let A: any; // alice's Jupyter workspace
let B: any; // bob's busybox workspace
let launchedAt: number;
const recorder = new Recorder();
const jupyterTokens = new Set<string>();
let aliceBrowser: BrowserLike;
let bobBrowser: BrowserLike;
let anonymous: BrowserLike;

beforeAll(async () => {
  const port = await freePort();
  let proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  dashboardPublic = `http://localhost:${port}`;
  dataDir = makeDataDir("gantry-proxy-");
  // One proxy origin shared by all workspaces (what a real host name gets without GANTRY_PROXY_HOST_PATTERN; on
  // localhost the default would be <id>.localhost, so "none" asks for the shared origin): the dashboard's host on
  // the proxy port, with "localhost" made 127.0.0.1.
  g = await startGantry({ dataDir, port, proxyPort, env: { GANTRY_PUBLIC_URL: dashboardPublic, GANTRY_PROXY_HOST_PATTERN: "none" } });
  proxyUrl = `http://127.0.0.1:${proxyPort}`;

  alice = await seedLoginUser(g, "alice");
  bob = await seedLoginUser(g, "bob");
  const jupyterImageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  const busyboxImageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE });

  launchedAt = Date.now();
  const a = await g.api("/api/workspaces", { token: alice.token, json: { name: "notebook", imageId: jupyterImageId, gpus: 0, memoryGb: 1, cpus: 0.5 } });
  if (a.status !== 201) throw new Error(`launching A answered ${a.status}: ${a.text}`);
  A = a.body;
  recorder.add("launch A", a.text);
  const b = await g.api("/api/workspaces", { token: bob.token, json: { name: "shell", imageId: busyboxImageId, gpus: 0, memoryGb: 1, cpus: 0.5 } });
  if (b.status !== 201) throw new Error(`launching B answered ${b.status}: ${b.text}`);
  B = b.body;
  recorder.add("launch B", b.text);

  const info = await inspect(A.containerId);
  const token = info && envValue(info, "JUPYTER_TOKEN");
  if (!token || token.length < 16) throw new Error(`workspace A has no usable JUPYTER_TOKEN: ${token}`);
  jupyterTokens.add(token);
  const infoB = await inspect(B.containerId);
  const tokenB = infoB && envValue(infoB, "JUPYTER_TOKEN");
  if (tokenB) jupyterTokens.add(tokenB);

  aliceBrowser = await BrowserLike.signIn(g, proxyUrl, alice, recorder);
  bobBrowser = await BrowserLike.signIn(g, proxyUrl, bob, recorder);
  anonymous = BrowserLike.anonymous(g, proxyUrl, recorder);
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  dataDir?.remove();
});

const cookieName = (id: string) => `gantry_proxy_${id}`;
const kernelsPath = (id: string) => `/w/${id}/api/kernels`;
const HTML = { accept: "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8" };

function proxyCookieOf(b: BrowserLike, id: string): string {
  const pair = b.proxyJar
    .header()
    .split("; ")
    .find((p) => p.startsWith(`${cookieName(id)}=`));
  if (!pair) throw new Error(`no proxy cookie for ${id}`);
  return pair.slice(cookieName(id).length + 1);
}

function dashboardSessionOf(b: BrowserLike): string {
  const pair = b.dashboard!.jar.header().split("; ").find((p) => p.startsWith(`${SESSION_COOKIE}=`));
  if (!pair) throw new Error("no dashboard session cookie");
  return pair.slice(SESSION_COOKIE.length + 1);
}

/** The same key derivation as lib/proxy/grant.ts, from the data dir's generated secret: to mint expired grants. */
function grantKey(): Uint8Array {
  const secret = fs.readFileSync(path.join(g.dataDir.path, "nextauth-secret"), "utf8").trim();
  return new Uint8Array(crypto.hkdfSync("sha256", secret, "gantry", "gantry-proxy-grant", 32));
}

function grantUrlWith(workspaceId: string, grant: string, next = `/w/${workspaceId}/`): string {
  const url = new URL(`/w/${workspaceId}/_gantry/grant`, proxyUrl);
  url.searchParams.set("grant", grant);
  url.searchParams.set("next", next);
  return url.toString();
}

/** A grant for this browser: the handshake started on the proxy, then /open/<id> with its state (and this next). */
function freshGrantUrl(b: BrowserLike, workspaceId: string, next?: string): Promise<URL> {
  return b.grantUrl(workspaceId, next);
}

const handshakeCookieName = (id: string) => `gantry_handshake_${id}`;

function ws(id: string, kernelId: string, headers: Record<string, string>): Promise<WsResult> {
  return openWebSocket(`${proxyUrl}/w/${id}/api/kernels/${kernelId}/channels?session_id=${crypto.randomUUID()}`, headers);
}

async function waitForJupyter(b: BrowserLike, id: string): Promise<void> {
  await waitFor(
    "Jupyter to answer through the proxy",
    () => b.proxy(kernelsPath(id)),
    (r) => r.status === 200,
    90_000,
    500,
  );
}

/** Starts a kernel through the proxy, runs 1+1 over its WebSocket and returns the execute_result's text/plain. */
async function runOnePlusOne(b: BrowserLike, id: string): Promise<{ kernelId: string; result: string }> {
  const started = await b.proxy(kernelsPath(id), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "python3" }),
  });
  expect(started.status, started.text).toBe(201);
  const kernelId = JSON.parse(started.text).id as string;
  expect(kernelId).toMatch(/^[0-9a-f-]{36}$/);

  const conn = await ws(id, kernelId, { origin: proxyUrl, cookie: `${cookieName(id)}=${proxyCookieOf(b, id)}` });
  expect(conn.ok, JSON.stringify(conn)).toBe(true);
  const socket = conn as WsOpen;
  try {
    const session = crypto.randomUUID();
    // The kernel may still be starting: ask for kernel_info until it answers, then execute.
    const info = jupyterMessage("kernel_info_request", {}, session);
    socket.sendText(JSON.stringify(info));
    const ready = await waitForKernelInfo(socket, session);
    expect(ready).toBe(true);

    const exec = jupyterMessage("execute_request", { code: "1+1", silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, session);
    socket.sendText(JSON.stringify(exec));
    const msgId = exec.header.msg_id;
    const parsed = (m: { text: string }) => {
      try {
        return JSON.parse(m.text);
      } catch {
        return null;
      }
    };
    const result = await socket.waitFor("execute_result for 1+1", (m) => {
      const j = parsed(m);
      return j?.msg_type === "execute_result" && j?.parent_header?.msg_id === msgId;
    });
    const reply = await socket.waitFor("execute_reply", (m) => {
      const j = parsed(m);
      return j?.msg_type === "execute_reply" && j?.parent_header?.msg_id === msgId;
    });
    expect(parsed(reply).content.status).toBe("ok");
    const body = parsed(result);
    expect(body.channel).toBe("iopub");
    return { kernelId, result: body.content.data["text/plain"] };
  } finally {
    recorder.add(`websocket ${id}/${kernelId}`, socket.received());
    socket.close();
  }
}

async function waitForKernelInfo(socket: WsOpen, session: string): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const got = await socket
      .waitFor("kernel_info_reply", (m) => m.text.includes('"kernel_info_reply"'), 3000)
      .then(() => true)
      .catch(() => false);
    if (got) return true;
    socket.sendText(JSON.stringify(jupyterMessage("kernel_info_request", {}, session)));
  }
  return false;
}

describe("the handshake: dashboard grant, proxy cookie", () => {
  it("gives the workspace's url on the proxy's own origin, and no activity before anyone opened it", async () => {
    const res = await g.api(`/api/workspaces/${A.id}`, { token: alice.token });
    expect(res.status).toBe(200);
    recorder.add("GET workspace A", res.text);
    expect(res.body.url).toBe(`${proxyUrl}/w/${A.id}/`);
    expect(new URL(res.body.url).origin).not.toBe(new URL(dashboardPublic).origin);
    expect(res.body.lastActivityAt).toBeNull();
  });

  it("/open/<id> without a handshake state sends the owner to the proxy to start one, with no grant", async () => {
    const open = await aliceBrowser.openOnDashboard(A.id);
    expect(open.status).toBe(307);
    const start = new URL(open.location!);
    expect(start.origin + start.pathname).toBe(`${proxyUrl}/w/${A.id}/_gantry/start`);
    expect(start.searchParams.get("next")).toBe(`/w/${A.id}/`);
    expect(start.search).not.toContain("grant");
  });

  it("the proxy starts the handshake: a nonce cookie for its _gantry/ path, then the dashboard with that nonce as state", async () => {
    const b = await BrowserLike.signIn(g, proxyUrl, alice, recorder);
    const start = await b.proxy(`/w/${A.id}/_gantry/start?next=${encodeURIComponent(`/w/${A.id}/tree`)}`);
    expect(start.status).toBe(302);
    const nonce = setCookieNamed(start.res, handshakeCookieName(A.id));
    expect(nonce).not.toBeNull();
    expect(nonce!.attrs.path).toBe(`/w/${A.id}/_gantry/`);
    expect(nonce!.attrs).toHaveProperty("httponly");
    const open = new URL(start.location!);
    expect(open.origin + open.pathname).toBe(`${dashboardPublic}/open/${A.id}`);
    expect(open.searchParams.get("state")).toBe(nonce!.value);
    expect(open.searchParams.get("next")).toBe(`/w/${A.id}/tree`);
    // A second start in the same browser (another tab) keeps the nonce, so neither tab undoes the other.
    const again = await b.proxy(`/w/${A.id}/_gantry/start`);
    expect(new URL(again.location!).searchParams.get("state")).toBe(nonce!.value);
  });

  it("sends the signed-in owner from /open/<id>?state= to the proxy's grant URL, with a one-time grant that carries no secret", async () => {
    const { state } = await aliceBrowser.startOnProxy(A.id);
    const open = await aliceBrowser.openOnDashboard(A.id, undefined, state);
    expect(open.status).toBe(307);
    expect(open.res.headers.get("cache-control") ?? "").toContain("no-store");
    const grantUrl = new URL(open.location!);
    expect(grantUrl.origin).toBe(proxyUrl);
    expect(grantUrl.pathname).toBe(`/w/${A.id}/_gantry/grant`);
    expect(grantUrl.searchParams.get("next")).toBe(`/w/${A.id}/`);
    // The dashboard sets nothing for the proxy; the proxy's cookie comes from the proxy's origin only.
    expect(open.res.headers.getSetCookie().filter((c) => c.startsWith("gantry_"))).toEqual([]);
    const claims = decodeJwt(grantUrl.searchParams.get("grant")!);
    expect(claims).toMatchObject({ wid: A.id, sub: alice.id });
    // Bound to this browser by the nonce's hash (never the nonce itself) and to the dashboard session it came from.
    expect(typeof claims.bro).toBe("string");
    expect(claims.bro).not.toBe(state);
    expect(JSON.stringify(claims)).not.toContain(state);
    expect(typeof claims.sid).toBe("string");
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(60);
  });

  it("redeems the grant on the proxy: a cookie of its own, HttpOnly, SameSite, scoped to /w/<id>/, then back to the workspace", async () => {
    const grantUrl = await freshGrantUrl(aliceBrowser, A.id);
    const grant = await aliceBrowser.proxy(grantUrl.toString());
    expect(grant.status).toBe(302);
    expect(grant.location).toBe(`/w/${A.id}/`);
    const cookie = setCookieNamed(grant.res, cookieName(A.id));
    expect(cookie).not.toBeNull();
    expect(cookie!.attrs.path).toBe(`/w/${A.id}/`);
    expect(cookie!.attrs).toHaveProperty("httponly");
    expect((cookie!.attrs.samesite ?? "").toLowerCase()).toMatch(/^(lax|strict)$/);
    expect(cookie!.attrs).not.toHaveProperty("domain");
    expect(cookie!.value).not.toBe(grantUrl.searchParams.get("grant"));
    expect(Object.keys(decodeJwt(cookie!.value)).sort()).toEqual(["at", "aud", "ep", "exp", "iat", "jti", "sid", "sub", "wid"]);
    // Nothing else is set but the handshake nonce's removal: in particular no dashboard cookie is minted by the proxy.
    expect(grant.res.headers.getSetCookie().map((c) => c.split("=")[0])).toEqual([cookieName(A.id), handshakeCookieName(A.id)]);
    expect(setCookieNamed(grant.res, handshakeCookieName(A.id))!.attrs["max-age"]).toBe("0");
  });

  it("is single-use: replaying the same grant URL, with the same nonce cookie, answers 404 and sets no cookie", async () => {
    const b = await BrowserLike.signIn(g, proxyUrl, alice, recorder);
    const grantUrl = (await freshGrantUrl(b, A.id)).toString();
    const nonce = b.proxyJar.header().split("; ").find((p) => p.startsWith(`${handshakeCookieName(A.id)}=`))!;
    const first = await b.proxy(grantUrl);
    expect(first.status).toBe(302);
    const replayer = BrowserLike.anonymous(g, proxyUrl, recorder);
    const replay = await replayer.proxy(grantUrl, { extraCookie: nonce });
    expect(replay.status).toBe(404);
    expect(replay.res.headers.getSetCookie()).toEqual([]);
    expect((await replayer.proxy(kernelsPath(A.id))).status).toBe(401);
  });

  it("answers 404 to a forged, an expired, a mangled, a missing or a wrong-purpose grant", async () => {
    const claims = { wid: A.id };
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(alice.id)
      .setAudience("gantry-proxy-grant")
      .setIssuedAt()
      .setJti(crypto.randomBytes(12).toString("base64url"))
      .setExpirationTime("60s")
      .sign(crypto.randomBytes(32));
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(alice.id)
      .setAudience("gantry-proxy-grant")
      .setIssuedAt(Math.floor(Date.now() / 1000) - 600)
      .setJti(crypto.randomBytes(12).toString("base64url"))
      .setExpirationTime(Math.floor(Date.now() / 1000) - 300)
      .sign(grantKey());
    const [h, , s] = forged.split(".");
    const unsigned = `${Buffer.from(JSON.stringify({ alg: "none" })).toString("base64url")}.${Buffer.from(
      JSON.stringify({ wid: A.id, sub: alice.id, aud: "gantry-proxy-grant", jti: "x", exp: Math.floor(Date.now() / 1000) + 60 }),
    ).toString("base64url")}.`;
    const real = (await freshGrantUrl(aliceBrowser, A.id)).searchParams.get("grant")!;
    const mangled = real.slice(0, -4) + (real.endsWith("AAAA") ? "BBBB" : "AAAA");
    const sessionCookieAsGrant = proxyCookieOf(aliceBrowser, A.id);

    for (const [what, url] of [
      ["forged (another key)", grantUrlWith(A.id, forged)],
      ["expired (the right key)", grantUrlWith(A.id, expired)],
      ["alg none", grantUrlWith(A.id, unsigned)],
      ["mangled signature", grantUrlWith(A.id, mangled)],
      ["header and signature only", grantUrlWith(A.id, `${h}..${s}`)],
      ["a proxy session cookie instead of a grant", grantUrlWith(A.id, sessionCookieAsGrant)],
      ["the dashboard's session token instead of a grant", grantUrlWith(A.id, dashboardSessionOf(aliceBrowser))],
      ["no grant at all", `${proxyUrl}/w/${A.id}/_gantry/grant?next=/w/${A.id}/`],
      ["an oversized grant", grantUrlWith(A.id, "a".repeat(5000))],
    ] as const) {
      const b = BrowserLike.anonymous(g, proxyUrl, recorder);
      const res = await b.proxy(url);
      expect({ what, status: res.status, cookies: res.res.headers.getSetCookie() }).toEqual({ what, status: 404, cookies: [] });
    }
  });

  it("does not let a grant for workspace A open workspace B (and burns it)", async () => {
    const grantA = (await freshGrantUrl(aliceBrowser, A.id)).searchParams.get("grant")!;
    const b = BrowserLike.anonymous(g, proxyUrl, recorder);
    const res = await b.proxy(grantUrlWith(B.id, grantA, `/w/${B.id}/`));
    expect(res.status).toBe(404);
    expect(res.res.headers.getSetCookie()).toEqual([]);
    // Bob's own grant for B does not open A either.
    const grantB = (await freshGrantUrl(bobBrowser, B.id)).searchParams.get("grant")!;
    const other = await BrowserLike.anonymous(g, proxyUrl, recorder).proxy(grantUrlWith(A.id, grantB));
    expect(other.status).toBe(404);
  });
});

describe("the owner, through the proxy", () => {
  it("lists /api/kernels of the real Jupyter server (the token is added by the proxy, never by the browser)", async () => {
    await waitForJupyter(aliceBrowser, A.id);
    const res = await aliceBrowser.proxy(kernelsPath(A.id));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual(expect.any(Array));
  });

  it("starts a kernel, runs 1+1 over the kernel WebSocket with the proxy's Origin and reads back 2", async () => {
    const { kernelId, result } = await runOnePlusOne(aliceBrowser, A.id);
    expect(result).toBe("2");
    const list = await aliceBrowser.proxy(kernelsPath(A.id));
    expect(JSON.parse(list.text).map((k: { id: string }) => k.id)).toContain(kernelId);
  });

  it("serves the Jupyter tree page on the proxy's origin", async () => {
    const res = await aliceBrowser.proxy(`/w/${A.id}/tree`, { headers: HTML });
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    expect(res.res.headers.get("content-type")).toContain("text/html");
    expect(res.text).toMatch(/<title>[^<]*Home/);
  });

  it("records the workspace's last activity (written on the first proxied request)", async () => {
    const view = await waitFor(
      "lastActivityAt to be set",
      () => g.api(`/api/workspaces/${A.id}`, { token: alice.token }),
      (r) => r.status === 200 && !!r.body.lastActivityAt,
      10_000,
    );
    recorder.add("GET workspace A (activity)", view.text);
    const at = Date.parse(view.body.lastActivityAt);
    expect(at).toBeGreaterThanOrEqual(launchedAt - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    // B was never used through the proxy.
    const b = await g.api(`/api/workspaces/${B.id}`, { token: bob.token });
    expect(b.body.lastActivityAt).toBeNull();
  });
});

describe("everyone else gets nothing", () => {
  let kernelId: string;

  beforeAll(async () => {
    const list = await aliceBrowser.proxy(kernelsPath(A.id));
    kernelId = JSON.parse(list.text)[0]?.id;
    if (!kernelId) throw new Error(`alice has no kernel to aim at: ${list.text}`);
  });

  it("another signed-in user gets 404 from /open/<id>, and no grant", async () => {
    const res = await bobBrowser.openOnDashboard(A.id);
    expect(res.status).toBe(404);
    expect(res.location).toBeNull();
    expect(res.text).not.toContain("grant");
    // An id that does not exist, and one that is not an id at all: the same 404.
    expect((await bobBrowser.openOnDashboard("ws00000000000000000000")).status).toBe(404);
    expect((await bobBrowser.openOnDashboard("..%2f..%2fapi")).status).toBe(404);
  });

  it("without a proxy cookie: 401 for API paths, and HTML is sent through the dashboard, where another user gets 404", async () => {
    for (const b of [bobBrowser, anonymous]) {
      expect((await b.proxy(kernelsPath(A.id))).status).toBe(401);
      expect((await b.proxy(`${kernelsPath(A.id)}/${kernelId}`)).status).toBe(401);
      const post = await b.proxy(kernelsPath(A.id), { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(post.status).toBe(401);
      expect((await b.proxy(`/w/${A.id}/api/contents`, { method: "DELETE" })).status).toBe(401);
      const page = await b.proxy(`/w/${A.id}/tree`, { headers: HTML });
      expect(page.status).toBe(302);
      const back = new URL(page.location!);
      expect(back.origin).toBe(dashboardPublic);
      expect(back.pathname).toBe(`/open/${A.id}`);
      expect(back.searchParams.get("next")).toBe(`/w/${A.id}/tree`);
      expect(back.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{32}$/);
    }
    // Bob follows the redirect to the dashboard: 404, no grant.
    const page = await bobBrowser.proxy(`/w/${A.id}/tree`, { headers: HTML });
    const back = new URL(page.location!);
    expect((await bobBrowser.dash(back.pathname + back.search)).status).toBe(404);
    // Anonymous follows it: the dashboard sends them to its login page, with an on-site way back.
    const anon = await anonymous.dash(back.pathname + back.search);
    expect(anon.status).toBeGreaterThanOrEqual(300);
    expect(anon.status).toBeLessThan(400);
    const loginUrl = new URL(anon.location!, dashboardPublic);
    expect(loginUrl.origin).toBe(dashboardPublic);
    expect(loginUrl.pathname).toBe("/login");
    expect(loginUrl.searchParams.get("next")).toBe(`/open/${A.id}?${new URLSearchParams({ state: back.searchParams.get("state")!, next: `/w/${A.id}/tree` })}`);
  });

  it("a user's cookie for their own workspace does not open another's, under either name", async () => {
    await bobBrowser.handshake(B.id);
    const bobsCookie = proxyCookieOf(bobBrowser, B.id);
    // Bob's jar holds gantry_proxy_<B>; A's path wants gantry_proxy_<A>.
    expect((await bobBrowser.proxy(kernelsPath(A.id))).status).toBe(401);
    // Bob's valid cookie, renamed for A: still signed for B.
    const renamed = { cookie: `${cookieName(A.id)}=${bobsCookie}` };
    expect((await anonymous.proxy(kernelsPath(A.id), { headers: renamed })).status).toBe(401);
    expect((await anonymous.proxy(`/w/${A.id}/tree`, { headers: { ...renamed, ...HTML } })).status).toBe(302);
    const sock = await ws(A.id, kernelId, { origin: proxyUrl, ...renamed });
    expect(sock.ok).toBe(false);
    expect(sock.status).toBe(401);
    // And the other way round: alice's cookie for A, renamed for B, does not open B.
    const alicesRenamed = { cookie: `${cookieName(B.id)}=${proxyCookieOf(aliceBrowser, A.id)}` };
    expect((await anonymous.proxy(`/w/${B.id}/api/kernels`, { headers: alicesRenamed })).status).toBe(401);
  });

  it("an anonymous client gets nothing over WebSocket: the upgrade is refused", async () => {
    const attempts: Record<string, string>[] = [{ origin: proxyUrl }, {}, { origin: proxyUrl, cookie: `${cookieName(A.id)}=garbage` }];
    for (const headers of attempts) {
      const sock = await ws(A.id, kernelId, headers);
      expect(sock.ok, JSON.stringify(headers)).toBe(false);
      expect([401, 403]).toContain(sock.status);
    }
  });

  it("refuses a WebSocket with a foreign Origin even with the owner's valid cookie", async () => {
    const cookie = `${cookieName(A.id)}=${proxyCookieOf(aliceBrowser, A.id)}`;
    for (const origin of [EVIL_ORIGIN, dashboardPublic, g.url, "null", `${proxyUrl}.evil.example`, "http://127.0.0.1"]) {
      const sock = await ws(A.id, kernelId, { origin, cookie });
      expect({ origin, ok: sock.ok, status: sock.status }).toEqual({ origin, ok: false, status: 403 });
    }
    const noOrigin = await ws(A.id, kernelId, { cookie });
    expect(noOrigin.ok).toBe(false);
    // The same cookie with the proxy's own Origin is accepted: the refusals above were for the Origin alone.
    const same = await ws(A.id, kernelId, { origin: proxyUrl, cookie });
    expect(same.ok, JSON.stringify(same)).toBe(true);
    (same as WsOpen).close();
  });

  it("a state-changing HTTP request with the owner's cookie from a foreign Origin does nothing", async () => {
    const cookie = `${cookieName(A.id)}=${proxyCookieOf(aliceBrowser, A.id)}`;
    const before = JSON.parse((await aliceBrowser.proxy(kernelsPath(A.id))).text).length;
    for (const origin of [EVIL_ORIGIN, dashboardPublic, "null"]) {
      // A "simple" cross-origin request (no preflight): what a form or fetch(no-cors) on another site can send.
      const res = await anonymous.proxy(kernelsPath(A.id), { method: "POST", headers: { cookie, origin, "content-type": "text/plain" }, body: "" });
      expect({ origin, ok: res.status >= 200 && res.status < 300 }).toEqual({ origin, ok: false });
    }
    const after = JSON.parse((await aliceBrowser.proxy(kernelsPath(A.id))).text).length;
    expect(after).toBe(before);
  });

  it("the dashboard's session cookie alone gets nothing from the proxy, under its own name or the proxy's", async () => {
    const token = dashboardSessionOf(aliceBrowser);
    // Sanity: the cookie is a live dashboard session.
    const me = await fetch(`${g.url}/api/me`, { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    expect(me.status).toBe(200);
    for (const cookie of [`${SESSION_COOKIE}=${token}`, `__Secure-${SESSION_COOKIE}=${token}`, `${cookieName(A.id)}=${token}`]) {
      expect((await anonymous.proxy(kernelsPath(A.id), { headers: { cookie } })).status).toBe(401);
      const post = await anonymous.proxy(kernelsPath(A.id), { method: "POST", headers: { cookie, "content-type": "application/json" }, body: "{}" });
      expect(post.status).toBe(401);
      const page = await anonymous.proxy(`/w/${A.id}/tree`, { headers: { cookie, ...HTML } });
      expect(page.status).toBe(302);
      expect(new URL(page.location!).origin).toBe(dashboardPublic);
      const sock = await ws(A.id, kernelId, { origin: proxyUrl, cookie });
      expect({ cookie: cookie.split("=")[0], ok: sock.ok, status: sock.status }).toEqual({ cookie: cookie.split("=")[0], ok: false, status: 401 });
    }
  });

  it("an admin cannot open a user's workspace on a shared proxy origin, and the setting cannot be turned on here", async () => {
    const admin = await BrowserLike.signIn(g, proxyUrl, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, recorder);
    expect((await admin.openOnDashboard(A.id)).status).toBe(404);
    const on = await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { allowAdminWorkspaceAccess: true } });
    expect(on.status, on.text).toBe(422);
    expect(on.body.error.code).toBe("validation_failed");
    expect(on.body.error.message).toContain("GANTRY_PROXY_HOST_PATTERN");
    const settings = await g.api("/api/admin/settings", { token: g.adminToken });
    expect(settings.body.allowAdminWorkspaceAccess).toBe(false);
    expect((await admin.openOnDashboard(A.id)).status).toBe(404);
    // (Admin access with per-workspace origins, its audit and its revocation: proxy-access.test.ts.)
  });
});

describe("open-redirect payloads stay on-site", () => {
  const offsite = ["https://evil.com", "//evil.com", "/\\evil.com", "\\\\evil.com", "javascript:alert(1)", "%2F%2Fevil.com", "http:evil.com", "/\t/evil.com"];
  // Paths that start with /w/<id>/ as text but leave it once a browser resolves their dot segments.
  const dotSegments = (id: string, other: string) => [`/w/${id}/../../w/${other}/`, `/w/${id}/../../evil`, `/w/${id}/%2e%2e/%2e%2e/evil`, `/w/${id}/./../`];

  /** Redeems a grant URL (optionally with its next replaced) and says where the proxy sends the browser. */
  async function landingOf(grantUrl: URL, next?: string): Promise<URL> {
    const grant = grantUrl.searchParams.get("grant")!;
    const url = next === undefined ? grantUrl.toString() : grantUrlWith(A.id, grant, next);
    const landing = await aliceBrowser.proxy(url);
    expect(landing.status, landing.text).toBe(302);
    return new URL(landing.location!, url);
  }

  const verdict = (next: string, where: URL) => ({ next, origin: where.origin, underWorkspace: where.pathname.startsWith(`/w/${A.id}/`) });
  const onSite = (next: string) => ({ next, origin: proxyUrl, underWorkspace: true });

  it("/open/<id>?next=<off-site> hands the proxy a next under /w/<id>/, and the proxy lands there", async () => {
    for (const next of [...offsite, `/w/${B.id}/`, `/w/${A.id}/..%2F..%2F`]) {
      const grantUrl = await freshGrantUrl(aliceBrowser, A.id, next);
      expect(grantUrl.origin).toBe(proxyUrl);
      expect(verdict(next, await landingOf(grantUrl))).toEqual(onSite(next));
    }
    // A path inside the workspace is kept.
    const inside = await freshGrantUrl(aliceBrowser, A.id, `/w/${A.id}/tree?x=1`);
    expect(inside.searchParams.get("next")).toBe(`/w/${A.id}/tree?x=1`);
    expect((await landingOf(inside)).toString()).toBe(`${proxyUrl}/w/${A.id}/tree?x=1`);
  });

  it("the proxy's own _gantry/grant?next=<off-site> stays under /w/<id>/", async () => {
    for (const next of [...offsite, `/w/${B.id}/tree`, `/w/${A.id}\\..\\evil`]) {
      const grantUrl = await freshGrantUrl(aliceBrowser, A.id);
      expect(verdict(next, await landingOf(grantUrl, next))).toEqual(onSite(next));
    }
  });

  // These stay on the proxy's origin either way (no off-site redirect), but land outside the workspace's prefix.
  it("/open/<id>?next= with dot segments stays under /w/<id>/ once resolved", async () => {
    for (const next of dotSegments(A.id, B.id)) {
      const grantUrl = await freshGrantUrl(aliceBrowser, A.id, next);
      expect.soft(verdict(next, await landingOf(grantUrl))).toEqual(onSite(next));
    }
  });

  it("the proxy's _gantry/grant?next= with dot segments stays under /w/<id>/ once resolved", async () => {
    for (const next of dotSegments(A.id, B.id)) {
      const grantUrl = await freshGrantUrl(aliceBrowser, A.id);
      expect.soft(verdict(next, await landingOf(grantUrl, next))).toEqual(onSite(next));
    }
  });

  it("/login?next=… (and ?callbackUrl=…) sends a signed-in user to the dashboard's own origin", async () => {
    const queries = [
      "next=//evil.com",
      "next=https://other.example",
      "next=/\\evil.com",
      "next=%2F%2Fevil.com",
      "next=%2F%5Cevil.com",
      "next=javascript:alert(1)",
      "next=/%09/evil.com",
      "next=%5C%5Cevil.com",
      "next=http:evil.com",
      "callbackUrl=//evil.com",
      "callbackUrl=https://other.example",
    ];
    for (const q of queries) {
      const res = await aliceBrowser.dash(`/login?${q}`);
      expect({ q, redirect: res.status >= 300 && res.status < 400 }).toEqual({ q, redirect: true });
      const where = new URL(res.location!, dashboardPublic);
      expect({ q, origin: where.origin, path: where.pathname }).toEqual({ q, origin: dashboardPublic, path: "/" });
    }
    // A plain on-site path is kept.
    const ok = await aliceBrowser.dash(`/login?next=${encodeURIComponent("/settings?tab=tokens")}`);
    const kept = new URL(ok.location!, dashboardPublic);
    expect(kept.origin + kept.pathname + kept.search).toBe(`${dashboardPublic}/settings?tab=tokens`);
  });

  /** Signs alice in through the credentials callback with this callbackUrl; where next-auth sends her. */
  async function credentialsCallback(callbackUrl: string, json: boolean): Promise<URL> {
    const csrfRes = await fetch(`${g.url}/api/auth/csrf`);
    const cookies = csrfRes.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
    const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
    const form: Record<string, string> = { csrfToken, email: alice.email, password: alice.password, callbackUrl };
    if (json) form.json = "true";
    const res = await fetch(`${g.url}/api/auth/callback/credentials`, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies },
      body: new URLSearchParams(form).toString(),
    });
    const text = await recorder.response("dashboard credentials callback", res);
    const target = json ? JSON.parse(text).url : res.headers.get("location");
    expect(typeof target, `${res.status} ${text.slice(0, 200)}`).toBe("string");
    return new URL(target, dashboardPublic);
  }

  const callbackPayloads = ["//evil.com", "https://other.example/x", "/\\evil.com", "javascript:alert(1)", `${EVIL_ORIGIN}/`, "/\t/evil.com"];

  it("the credentials callback never sends the browser to the callbackUrl's foreign host", async () => {
    for (const callbackUrl of callbackPayloads) {
      for (const json of [true, false]) {
        const where = await credentialsCallback(callbackUrl, json);
        expect({ callbackUrl, json, protocol: where.protocol }).toEqual({ callbackUrl, json, protocol: "http:" });
        expect(["evil.com", "other.example", "evil.example"]).not.toContain(where.hostname);
      }
    }
  });

  it("the credentials callback sends the browser to the dashboard's own origin (GANTRY_PUBLIC_URL), for on-site and off-site callbackUrls", async () => {
    for (const callbackUrl of ["/", "/settings", ...callbackPayloads]) {
      for (const json of [true, false]) {
        const where = await credentialsCallback(callbackUrl, json);
        expect.soft({ callbackUrl, json, origin: where.origin }).toEqual({ callbackUrl, json, origin: dashboardPublic });
      }
    }
  });
});

describe("reset and delete", () => {
  it("keeps the Jupyter token out of the dashboard's API, its pages and the workspace's logs", async () => {
    for (const p of [`/api/workspaces`, `/api/workspaces/${A.id}`, `/api/workspaces/${A.id}/logs`, `/api/workspaces?all=1`]) {
      const res = await g.api(p, { token: alice.token });
      recorder.add(`dashboard api ${p} -> ${res.status}`, res.text);
      const admin = await g.api(p, { token: g.adminToken });
      recorder.add(`dashboard admin api ${p} -> ${admin.status}`, admin.text);
    }
    for (const p of ["/", `/login`, "/settings"]) await aliceBrowser.dash(p);
    const admin = await BrowserLike.signIn(g, proxyUrl, { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, recorder);
    for (const p of ["/", "/admin", "/admin/users", "/admin/audit"]) await admin.dash(p);
    for (const t of jupyterTokens) expect(recorder.containing(t).filter((w) => !/^--- (proxy|websocket) /.test(w))).toEqual([]);
  });

  it("reset rotates the Jupyter token, and the same proxy cookie keeps working", async () => {
    const before = (await inspect(A.containerId))!;
    const oldToken = envValue(before, "JUPYTER_TOKEN")!;
    const res = await g.api(`/api/workspaces/${A.id}/reset`, { token: alice.token, method: "POST", json: {} });
    recorder.add("reset A", res.text);
    expect(res.status, res.text).toBe(200);
    expect(res.body.status).toBe("running");
    expect(res.body.containerId).not.toBe(A.containerId);
    const after = (await inspect(res.body.containerId))!;
    const newToken = envValue(after, "JUPYTER_TOKEN")!;
    jupyterTokens.add(newToken);
    expect(newToken).toBeTruthy();
    expect(newToken).not.toBe(oldToken);
    A = res.body;

    await waitForJupyter(aliceBrowser, A.id);
    const { result } = await runOnePlusOne(aliceBrowser, A.id);
    expect(result).toBe("2");
    // The new container's pages go into the search for tokens too.
    expect((await aliceBrowser.proxy(`/w/${A.id}/tree`, { headers: HTML })).status).toBe(200);
  });

  it("after the workspace is deleted the old proxy cookie gets 404, over HTTP and WebSocket, and /open gives 404", async () => {
    const cookie = proxyCookieOf(aliceBrowser, A.id);
    const kernels = JSON.parse((await aliceBrowser.proxy(kernelsPath(A.id))).text);
    const del = await g.api(`/api/workspaces/${A.id}`, { token: alice.token, method: "DELETE" });
    expect(del.status, del.text).toBe(204);
    expect((await aliceBrowser.proxy(kernelsPath(A.id))).status).toBe(404);
    expect((await aliceBrowser.proxy(`/w/${A.id}/tree`, { headers: HTML })).status).toBe(404);
    const sock = await ws(A.id, kernels[0]?.id ?? crypto.randomUUID(), { origin: proxyUrl, cookie: `${cookieName(A.id)}=${cookie}` });
    expect(sock.ok).toBe(false);
    expect(sock.status).toBe(404);
    expect((await aliceBrowser.openOnDashboard(A.id)).status).toBe(404);
  });

  it("no server log line contained any of the workspace's Jupyter tokens", async () => {
    expect(jupyterTokens.size).toBeGreaterThanOrEqual(2);
    const log = fs.readFileSync(g.server.logFile, "utf8") + g.server.stdout() + g.server.stderr();
    for (const t of jupyterTokens) expect(log.split("\n").filter((l) => l.includes(t))).toEqual([]);
  });

  it("no response or WebSocket frame from the proxy (Jupyter's own HTML pages included) contained a Jupyter token", async () => {
    // The recorder did see real traffic: the search is not vacuous.
    expect(recorder.text()).toContain("kernel_info_reply");
    expect(recorder.text()).toMatch(/<title>[^<]*Home/);
    const found = [...jupyterTokens].map((t) => {
      const lines = recorder
        .text()
        .split("\n")
        .filter((l) => l.includes(t))
        .map((l) => l.trim().replaceAll(t, "<JUPYTER_TOKEN>").slice(0, 160));
      return { responses: recorder.containing(t), lines: [...new Set(lines)] };
    });
    expect(found).toEqual([...jupyterTokens].map(() => ({ responses: [], lines: [] })));
  });
});
