import crypto from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/gantry-server";
import { cli } from "../helpers/run-cli";
import { BrowserLike, Recorder, launchHostileWorkspace, seedLoginUser, setCookieNamed, type LoginUser } from "../helpers/proxy";
import { BUSYBOX_IMAGE, JUPYTER_COMMAND, JUPYTER_IMAGE, startGantry, unique, waitFor, type GantryEnv } from "../helpers/workspaces";
import { openWebSocket, type WsOpen } from "../helpers/ws-client";

// The proxy's security cases that need a workspace on an origin of its own and a workspace that attacks: one real
// server with its dashboard on localhost (so each workspace defaults to <id>.localhost), alice's real Jupyter
// workspace J, and alice's hostile workspace H (tests/fixtures/hostile-workspace.py), whose server answers with
// every header a workspace could use against the browser.
//   - a localhost dashboard gives each workspace <id>.localhost, and admin access is possible only there;
//   - workspace response headers are filtered (Set-Cookie, Service-Worker-Allowed, Clear-Site-Data), also on the
//     101 answer of a WebSocket, and requests carry only the workspace's own cookies;
//   - a proxy session follows the dashboard session it came from: sign-out, a password change, disabling or
//     deleting the user, demotion and turning admin access off refuse the next request and close open sockets
//     within 15 s.

const CLOSE_WITHIN_MS = 15_000;

let g: GantryEnv;
let proxyPort: number;
let dashboard: string;
let alice: LoginUser;
let carol: LoginUser; // an admin
let bob: LoginUser;
let J: any; // alice's Jupyter workspace
let H: any; // alice's hostile workspace
const recorder = new Recorder();

const hostOf = (id: string) => `${id}.localhost:${proxyPort}`;
const originOf = (id: string) => `http://${hostOf(id)}`;
const cookieName = (id: string) => `gantry_proxy_${id}`;

function browserFor(user: { email: string; password: string }): Promise<BrowserLike> {
  return BrowserLike.signIn(g, `http://127.0.0.1:${proxyPort}`, user, recorder, `{id}.localhost:${proxyPort}`);
}

async function signOut(b: BrowserLike): Promise<void> {
  const csrf = await b.dash("/api/auth/csrf");
  const res = await b.dash("/api/auth/signout", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken: JSON.parse(csrf.text).csrfToken, json: "true" }).toString(),
  });
  expect(res.status, res.text).toBe(200);
}

const status = async (b: BrowserLike, id = J.id) => (await b.proxy(`/w/${id}/api/status`)).status;

/** A kernel WebSocket into J with this browser's proxy cookies; resolves once it is open. */
async function openKernelSocket(b: BrowserLike, kernelId: string): Promise<WsOpen> {
  const sock = await openWebSocket(`${originOf(J.id)}/w/${J.id}/api/kernels/${kernelId}/channels?session_id=${crypto.randomUUID()}`, {
    origin: originOf(J.id),
    cookie: b.proxyJar.header(),
  });
  expect(sock.ok, JSON.stringify(sock)).toBe(true);
  return sock as WsOpen;
}

/** How long an open socket took to be closed by the proxy (throws if it stays open past CLOSE_WITHIN_MS). */
async function closedWithin(sock: WsOpen, since: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the socket was still open ${CLOSE_WITHIN_MS} ms after the change`)), CLOSE_WITHIN_MS);
  });
  try {
    await Promise.race([sock.closed, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return Date.now() - since;
}

let kernelId: string;

beforeAll(async () => {
  const port = await freePort();
  proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  dashboard = `http://localhost:${port}`;
  g = await startGantry({ prefix: "gantry-security-proxy-", port, proxyPort, env: { GANTRY_PUBLIC_URL: dashboard } });
  alice = await seedLoginUser(g, "alice");
  bob = await seedLoginUser(g, "bob");
  const email = `${unique("carol")}@gantry.test`;
  const password = `pw-${crypto.randomBytes(9).toString("hex")}`;
  const out = await cli(g.dataDir.path, ["user", "create", "--email", email, "--password", password, "--admin"]);
  const id = /\((c[a-z0-9]+)\)/.exec(out)?.[1];
  if (!id) throw new Error(`gantry user create printed no id: ${out}`);
  carol = { email, id, password, token: "" };
  g.users.push(carol);

  const jupyter = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  const busybox = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE });
  const j = await g.api("/api/workspaces", { token: alice.token, json: { name: "notebook", imageId: jupyter, gpus: 0, memoryGb: 1, cpus: 0.5 } });
  if (j.status !== 201) throw new Error(`launching J answered ${j.status}: ${j.text}`);
  J = j.body;
  H = await launchHostileWorkspace(g, alice, { busyboxImageId: busybox, otherWorkspaceId: J.id });

  const b = await browserFor(alice);
  await b.handshake(J.id);
  await waitFor("Jupyter to answer through the proxy", () => status(b), (s) => s === 200, 90_000, 300);
  const kernel = await b.proxy(`/w/${J.id}/api/kernels`, { method: "POST", headers: { "content-type": "application/json", origin: originOf(J.id) }, body: '{"name":"python3"}' });
  expect(kernel.status, kernel.text).toBe(201);
  kernelId = JSON.parse(kernel.text).id;
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("one origin per workspace on a localhost dashboard", () => {
  it("serves each workspace on <id>.localhost by default, and nowhere else", async () => {
    expect(J.url).toBe(`${originOf(J.id)}/w/${J.id}/`);
    expect(H.url).toBe(`${originOf(H.id)}/w/${H.id}/`);
    const b = await browserFor(alice);
    await b.handshake(J.id);
    expect(await status(b)).toBe(200);
    // J's path on H's host, or on the bare proxy address: not J's.
    for (const wrong of [originOf(H.id), `http://127.0.0.1:${proxyPort}`, `http://localhost:${proxyPort}`]) {
      const res = await b.proxy(`${wrong}/w/${J.id}/api/status`);
      expect({ wrong, status: res.status }).toEqual({ wrong, status: 404 });
    }
  });

  it("lets an admin in only while the setting is on, audited; the setting is refused without per-workspace origins (proxy.test.ts)", async () => {
    const admin = await browserFor(carol);
    expect((await admin.openOnDashboard(J.id)).status).toBe(404);
    await g.setAdminAccess(true);
    try {
      await admin.handshake(J.id);
      expect(await status(admin)).toBe(200);
      const audit = await g.api("/api/admin/audit?pageSize=50", { token: g.adminToken });
      expect(audit.body.events.some((e: any) => e.action === "workspace.admin_open" && e.targetId === J.id)).toBe(true);
    } finally {
      await g.setAdminAccess(false);
    }
    expect(await status(admin)).toBe(404);
  });
});

describe("a hostile workspace's response headers", () => {
  let b: BrowserLike;

  beforeAll(async () => {
    b = await browserFor(alice);
    await b.handshake(H.id);
    await waitFor("the hostile workspace to answer", () => b.proxy(`/w/${H.id}/`), (r) => r.status === 200, 60_000, 300);
  });

  it("Set-Cookie passes only inside /w/<id>/, without Domain, under no name of Gantry's or next-auth's", async () => {
    const res = await b.proxy(`/w/${H.id}/headers`);
    expect(res.status).toBe(200);
    expect(res.res.headers.getSetCookie().sort()).toEqual([`nopath=1; Path=/w/${H.id}/`, `own=1; Path=/w/${H.id}/`]);
  });

  it("Service-Worker-Allowed and Clear-Site-Data never pass", async () => {
    const res = await b.proxy(`/w/${H.id}/headers`);
    expect(res.res.headers.get("service-worker-allowed")).toBeNull();
    expect(res.res.headers.get("clear-site-data")).toBeNull();
  });

  it("the same holds for the 101 answer of a WebSocket", async () => {
    const sock = await openWebSocket(`${originOf(H.id)}/w/${H.id}/socket`, { origin: originOf(H.id), cookie: b.proxyJar.header() });
    expect(sock.ok, JSON.stringify(sock)).toBe(true);
    const headers = (sock as WsOpen).headers;
    (sock as WsOpen).close();
    expect([...(headers["set-cookie"] ?? [])].sort()).toEqual([`nopath=1; Path=/w/${H.id}/`, `own=1; Path=/w/${H.id}/`]);
    expect(headers["service-worker-allowed"]).toBeUndefined();
    expect(headers["clear-site-data"]).toBeUndefined();
  });

  it("requests carry only the workspace's own cookies: never the dashboard's, the proxy's or the handshake's", async () => {
    const planted = [
      "next-auth.session-token=dash",
      "__Secure-next-auth.session-token=dash",
      "next-auth.csrf-token=csrf",
      `${cookieName(J.id)}=other`,
      `gantry_handshake_${H.id}=nonce`,
      "own=1",
    ].join("; ");
    const res = await b.proxy(`/w/${H.id}/echo`, { extraCookie: planted });
    expect(res.status).toBe(200);
    const seen = res.text.split(";").map((c) => c.trim().split("=")[0]).filter(Boolean);
    expect(seen).toContain("own");
    // (nopath is the workspace's own cookie from the headers test, kept by this browser for /w/<id>/.)
    expect(seen.filter((name) => name !== "own" && name !== "nopath")).toEqual([]);
  });
});

describe("a proxy session follows the dashboard session it came from", () => {
  it("sign-out: the next request is refused (and a page is sent through sign-in again), an open socket closes; other sessions go on", async () => {
    const other = await browserFor(alice);
    await other.handshake(J.id);
    const b = await browserFor(alice);
    await b.handshake(J.id);
    expect(await status(b)).toBe(200);
    const sock = await openKernelSocket(b, kernelId);
    const at = Date.now();
    await signOut(b);
    expect(await status(b)).toBe(401);
    const page = await b.proxy(`/w/${J.id}/tree`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(302);
    expect(new URL(page.location!).origin + new URL(page.location!).pathname).toBe(`${dashboard}/open/${J.id}`);
    const took = await closedWithin(sock, at);
    recorder.add("sign-out closed the socket after", `${took} ms`);
    expect(await status(other)).toBe(200);
  });

  it("a password change: every proxy session of the user is refused and its sockets close; signed in again, it works", async () => {
    const b = await browserFor(alice);
    await b.handshake(J.id);
    const sock = await openKernelSocket(b, kernelId);
    const newPassword = `pw-${crypto.randomBytes(9).toString("hex")}`;
    const at = Date.now();
    const changed = await b.dash("/api/me/password", {
      method: "POST",
      headers: { "content-type": "application/json", origin: dashboard },
      body: JSON.stringify({ currentPassword: alice.password, newPassword }),
    });
    expect(changed.status, changed.text).toBe(200);
    alice.password = newPassword;
    expect(await status(b)).toBe(401);
    await closedWithin(sock, at);
    const again = await browserFor(alice);
    await again.handshake(J.id);
    expect(await status(again)).toBe(200);
  });

  it("disabling the user: refused, and the socket closes; enabled again, a new handshake works", async () => {
    const b = await browserFor(alice);
    await b.handshake(J.id);
    const sock = await openKernelSocket(b, kernelId);
    const at = Date.now();
    await g.patchUser(alice.id, { disabled: true });
    try {
      expect(await status(b)).toBe(404);
      await closedWithin(sock, at);
    } finally {
      await g.patchUser(alice.id, { disabled: false });
    }
    expect(await status(b)).toBe(200);
  });

  it("disabling the user with the CLI (another process, no event on the server's bus): the socket closes too", async () => {
    const b = await browserFor(alice);
    await b.handshake(J.id);
    const sock = await openKernelSocket(b, kernelId);
    const at = Date.now();
    await cli(g.dataDir.path, ["user", "disable", "--email", alice.email]);
    try {
      await closedWithin(sock, at);
    } finally {
      await cli(g.dataDir.path, ["user", "enable", "--email", alice.email]);
    }
    await waitFor("the proxy to let alice in again", () => status(b), (s) => s === 200, 10_000, 200);
  });

  it("an admin: demotion, then turning admin access off, then deleting the admin each close the admin's socket", async () => {
    await g.setAdminAccess(true);
    try {
      const admin = await browserFor(carol);
      await admin.handshake(J.id);
      let sock = await openKernelSocket(admin, kernelId);
      let at = Date.now();
      await g.patchUser(carol.id, { role: "user" });
      expect(await status(admin)).toBe(404);
      await closedWithin(sock, at);
      await g.patchUser(carol.id, { role: "admin" });

      expect(await status(admin)).toBe(200);
      sock = await openKernelSocket(admin, kernelId);
      at = Date.now();
      await g.setAdminAccess(false);
      expect(await status(admin)).toBe(404);
      await closedWithin(sock, at);
      await g.setAdminAccess(true);

      expect(await status(admin)).toBe(200);
      sock = await openKernelSocket(admin, kernelId);
      at = Date.now();
      const del = await g.api(`/api/admin/users/${carol.id}`, { method: "DELETE", token: g.adminToken });
      expect(del.status, del.text).toBe(204);
      // The user is gone, and so is the dashboard session: treated as no session at all.
      expect(await status(admin)).toBe(401);
      await closedWithin(sock, at);
    } finally {
      await g.setAdminAccess(false);
    }
    // The owner's own sessions are untouched by all of it.
    const owner = await browserFor(alice);
    await owner.handshake(J.id);
    expect(await status(owner)).toBe(200);
  });
});

describe("grants bound to the browser that asked", () => {
  it("a grant link opened in any other browser shows a page pointing to the dashboard and sets no cookie; the asking browser still redeems it", async () => {
    const asker = await browserFor(alice);
    const grantUrl = (await asker.grantUrl(J.id)).toString();
    const bobs = await browserFor(bob);
    const bobWithNonce = await browserFor(bob);
    await bobWithNonce.startOnProxy(J.id);
    const anonymous = BrowserLike.anonymous(g, `http://127.0.0.1:${proxyPort}`, recorder, `{id}.localhost:${proxyPort}`);
    for (const [who, b, extraCookie] of [
      ["another signed-in user", bobs, undefined],
      ["another user with a handshake nonce of their own", bobWithNonce, undefined],
      ["an anonymous browser", anonymous, undefined],
      ["a browser with a made-up nonce", anonymous, `gantry_handshake_${J.id}=${"A".repeat(32)}`],
    ] as const) {
      const res = await b.proxy(grantUrl, { extraCookie });
      expect({ who, status: res.status, cookies: res.res.headers.getSetCookie() }).toEqual({ who, status: 403, cookies: [] });
      expect(res.res.headers.get("content-type")).toContain("text/html");
      expect(res.text).toContain("Open this workspace from the Gantry dashboard");
      expect(res.text).toContain(`${dashboard}/open/${J.id}`);
      expect(await status(b)).toBe(401);
    }
    const redeemed = await asker.proxy(grantUrl);
    expect(redeemed.status).toBe(302);
    expect(setCookieNamed(redeemed.res, cookieName(J.id))).not.toBeNull();
    expect(await status(asker)).toBe(200);
  });

  it("an API token cannot open a workspace: /open/<id> answers 403, with or without a state, and carries no grant", async () => {
    for (const query of ["", `?state=${"a".repeat(32)}`]) {
      const res = await fetch(`${g.url}/open/${J.id}${query}`, { redirect: "manual", headers: { authorization: `Bearer ${alice.token}` } });
      const text = await res.text();
      expect({ query, status: res.status, location: res.headers.get("location") }).toEqual({ query, status: 403, location: null });
      expect(text).not.toContain("grant");
    }
  });
});

