import http from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { createProxyServer } from "http-proxy-3";
import { config } from "../config";
import { log } from "../log";
import { newBrowserNonce, readGrant, sameBrowser, signProxySession, useGrant, verifyProxySession, PROXY_SESSION_TTL_S, type ProxyClaims } from "./grant";
import { auditAdminAccess, dashboardSessionStands, forgetWorkspace, proxyAccess, proxySessionAccess, tokenAccess, type ProxyTarget } from "./proxy-access";
import { filterWorkspaceHeaders, PRIVATE_COOKIE } from "./response-headers";
import { touchActivity } from "../workspaces/activity";
import { db } from "../db/client";
import { mayChangeAccess, subscribe } from "../events/bus";
import { safeWorkspacePath } from "./safe-workspace-path";
import { onWorkspaceHost, workspaceOrigin } from "./workspace-origin";
import { countUpstreamSocket } from "../metrics/proxy-bytes";
import { waitForUpstream } from "./wait-for-upstream";

// The workspace proxy, on an origin of its own: a workspace's HTML and JavaScript never run on the dashboard's
// origin. It authenticates with its own per-workspace cookie (obtained through a grant from the dashboard),
// never with the dashboard's, and adds the workspace's Jupyter token on the way in — the browser never sees it.

const PATH = /^\/w\/(ws[0-9a-f]{20})(\/.*)?$/;
const GRANT_PATH = "_gantry/grant";
const START_PATH = "_gantry/start";
const HANDSHAKE_TTL_S = 10 * 60;
/** How often open WebSockets are checked again (besides at once on every change the bus announces). */
const SOCKET_RECHECK_MS = 5_000;

export function proxyCookieName(workspaceId: string): string {
  return `gantry_proxy_${workspaceId}`;
}

/** The handshake nonce's cookie: set before the browser is sent to the dashboard, read when it brings the grant. */
export function handshakeCookieName(workspaceId: string): string {
  return `gantry_handshake_${workspaceId}`;
}

function cookieAttributes(workspaceId: string, path: string, maxAge: number): string {
  const secure = workspaceOrigin(workspaceId).startsWith("https:") ? "; Secure" : "";
  return `Path=${path}; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page a grant link opened in the wrong browser shows: nothing happens but a pointer to the dashboard. */
function otherBrowserPage(workspaceId: string): string {
  const open = escapeHtml(`${config.publicUrl}/open/${workspaceId}`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Open this workspace from the dashboard</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; line-height: 1.5">
<h1>Open this workspace from the Gantry dashboard</h1>
<p>This link was made for another browser, or it has already been used. Workspaces open only in the browser that asked
for them, so nothing was changed here.</p>
<p><a href="${open}">Open it from the dashboard</a> (you will be asked to sign in if you are not).</p>
</body></html>`;
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

function forwardableCookies(header: string | undefined): string | undefined {
  const kept = (header ?? "")
    .split(";")
    .map((p) => p.trim())
    .filter((p) => p && !PRIVATE_COOKIE.test(p.split("=")[0]));
  return kept.length ? kept.join("; ") : undefined;
}

function send(res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store", ...headers });
  res.end(body);
}

/**
 * The proxy session this request carries for this workspace, or null: none, not valid, or one whose dashboard
 * session has ended (signed out, password changed, past its lifetime), which counts as none, so that a browser
 * is sent through the dashboard's sign-in again.
 */
async function sessionFor(req: http.IncomingMessage, workspaceId: string): Promise<ProxyClaims | null> {
  const session = await verifyProxySession(parseCookies(req.headers.cookie).get(proxyCookieName(workspaceId)));
  if (!session || session.workspaceId !== workspaceId) return null;
  return (await dashboardSessionStands(session.userId, session.session)) ? session : null;
}

/**
 * A Gantry API token a Jupyter client presents instead of the proxy cookie (VS Code's "existing Jupyter server",
 * scripts): `Authorization: token gnt_…` (or `Bearer gnt_…`), or `?token=gnt_…` for clients that only take a URL.
 * Null when none is presented (any other Authorization value is not Gantry's and is replaced on the way in anyway).
 */
function presentedApiToken(req: http.IncomingMessage, url: URL): string | null {
  const header = /^(?:token|bearer)\s+(gnt_\S+)\s*$/i.exec(req.headers.authorization ?? "");
  if (header) return header[1];
  const query = url.searchParams.get("token");
  return query?.startsWith("gnt_") ? query : null;
}

/** The request's URL without its `token` parameters: a Gantry token never reaches the workspace. */
function withoutTokenParam(rawUrl: string): string {
  const url = new URL(rawUrl, "http://proxy.invalid");
  if (!url.searchParams.has("token")) return rawUrl;
  url.searchParams.delete("token");
  return url.pathname + url.search;
}

const TOKEN_KEY = Symbol("gantry.jupyterToken");
const WORKSPACE_KEY = Symbol("gantry.workspaceId");
type WithToken = http.IncomingMessage & { [TOKEN_KEY]?: string; [WORKSPACE_KEY]?: string };

function prepareUpstream(req: http.IncomingMessage, access: ProxyTarget): void {
  const cookies = forwardableCookies(req.headers.cookie);
  if (cookies) req.headers.cookie = cookies;
  else delete req.headers.cookie;
  req.headers.authorization = `token ${access.jupyterToken}`;
  req.url = withoutTokenParam(req.url ?? "/");
  // Uncompressed, so pages can be scrubbed of the token (Jupyter writes it into the HTML of signed-in users).
  delete req.headers["accept-encoding"];
  delete req.headers["x-gantry-remote-addr"];
  (req as WithToken)[TOKEN_KEY] = access.jupyterToken;
  (req as WithToken)[WORKSPACE_KEY] = access.workspaceId;
}

/** The origins a browser on the workspace's pages uses; requests and sockets from anywhere else are refused. */
function allowedOrigins(req: http.IncomingMessage, workspaceId: string): Set<string> {
  const allowed = new Set([workspaceOrigin(workspaceId)]);
  if (req.headers.host) allowed.add(`http://${req.headers.host}`).add(`https://${req.headers.host}`);
  return allowed;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

// Jupyter skips its own cross-origin checks for token-authenticated requests, and the proxy adds the token:
// so the proxy refuses state changes a page on another origin makes with the user's cookie.
function crossOrigin(req: http.IncomingMessage, workspaceId: string): boolean {
  if (SAFE_METHODS.has(req.method ?? "GET")) return false;
  const origin = req.headers.origin;
  if (origin) return !allowedOrigins(req, workspaceId).has(origin);
  const site = req.headers["sec-fetch-site"];
  return site !== undefined && site !== "same-origin" && site !== "none";
}

/** Sends Jupyter's response on with the token taken out of HTML and redirects; everything else streams through. */
function relayResponse(proxyRes: http.IncomingMessage, req: http.IncomingMessage, res: http.ServerResponse): void {
  const token = (req as WithToken)[TOKEN_KEY];
  const headers = filterWorkspaceHeaders(proxyRes.headers, (req as WithToken)[WORKSPACE_KEY] ?? "");
  const scrub = (text: string) => (token ? text.replaceAll(token, "") : text);
  if (typeof headers.location === "string") headers.location = scrub(headers.location);
  const type = String(headers["content-type"] ?? "");
  if (!token || !/^text\/html/i.test(type)) {
    res.writeHead(proxyRes.statusCode ?? 502, headers);
    proxyRes.pipe(res);
    return;
  }
  const chunks: Buffer[] = [];
  proxyRes.on("data", (c: Buffer) => chunks.push(c));
  proxyRes.on("error", () => res.destroy());
  proxyRes.on("end", () => {
    const body = Buffer.from(scrub(Buffer.concat(chunks).toString("utf8")), "utf8");
    delete headers["content-encoding"];
    delete headers["transfer-encoding"];
    headers["content-length"] = String(body.length);
    res.writeHead(proxyRes.statusCode ?? 502, headers);
    res.end(body);
  });
}

export function createWorkspaceProxy() {
  // Kept-alive connections to each workspace's Jupyter, so a request does not open a TCP connection of its own. One
  // pool per workspace, for one start of one container at one address: after a reset or a stop and start the
  // workspace gets a new pool, and the old one's sockets, to a process that is gone, are closed. Idle sockets close after 30 s, long before
  // Jupyter (Tornado) would drop them, so a request is not sent on a socket the other end is closing.
  const IDLE_SOCKET_MS = 30_000;
  const upstreamPools = new Map<string, { key: string; agent: http.Agent }>();

  function upstreamAgent(access: ProxyTarget): http.Agent {
    const pool = upstreamPools.get(access.workspaceId);
    if (pool && pool.key === access.upstreamKey) return pool.agent;
    pool?.agent.destroy();
    const agent = new http.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS });
    upstreamPools.set(access.workspaceId, { key: access.upstreamKey ?? "", agent });
    return agent;
  }
  const unsubscribe = subscribe((event) => {
    if (!mayChangeAccess(event)) return;
    // After the access cache has dropped what the event changed (it subscribed first): the sockets are read afresh.
    if (openSockets.size) queueMicrotask(() => void recheckSockets());
    if (event.type !== "workspace-deleted") return;
    upstreamPools.get(event.workspaceId)?.agent.destroy();
    upstreamPools.delete(event.workspaceId);
  });

  const proxy = createProxyServer({ ws: true, xfwd: false, proxyTimeout: 0, selfHandleResponse: true });
  proxy.on("proxyRes", (proxyRes, req, res) => {
    // Bytes to and from the workspace (gantry_proxy_bytes_total): counted off the socket once the response is in. The
    // socket is taken now: Node detaches a kept-alive socket from the response before other "end" listeners run.
    const upstream = proxyRes.socket as Socket | null;
    if (upstream) proxyRes.once("end", () => countUpstreamSocket(upstream));
    relayResponse(proxyRes, req, res as http.ServerResponse);
  });
  proxy.on("proxyReq", (_proxyReq, _req, _res, _options, socket) => countUpstreamSocket(socket as Socket));
  // Open WebSockets to workspaces, counted every few seconds (with the sweep below) and when they close.
  const upstreamSockets = new Set<Socket>();
  proxy.on("open", (proxySocket) => {
    const socket = proxySocket as Socket;
    countUpstreamSocket(socket);
    upstreamSockets.add(socket);
    socket.once("close", () => upstreamSockets.delete(socket));
  });
  // A WebSocket's 101 answer is written by http-proxy itself: its headers are filtered before that listener runs.
  proxy.on("proxyReqWs", (proxyReq, req) => {
    proxyReq.prependListener("upgrade", (proxyRes: http.IncomingMessage) => {
      proxyRes.headers = filterWorkspaceHeaders(proxyRes.headers, (req as WithToken)[WORKSPACE_KEY] ?? "");
    });
  });

  // Every open WebSocket, with the proxy session it was opened with: checked again whenever the bus says a user,
  // a workspace or the settings changed, and every few seconds (for changes made by another process, e.g. the CLI),
  // and closed as soon as that session no longer lets it in.
  const openSockets = new Map<Duplex, () => Promise<ProxyTarget | null>>();
  let recheck: Promise<void> | null = null;
  function recheckSockets(): Promise<void> {
    recheck ??= (async () => {
      for (const [socket, stillAllowed] of [...openSockets]) {
        const access = await stillAllowed().catch(() => null);
        if (!access?.target) {
          openSockets.delete(socket);
          socket.destroy();
        }
      }
    })().finally(() => (recheck = null));
    return recheck;
  }
  const sweep = setInterval(() => {
    void recheckSockets();
    for (const socket of upstreamSockets) countUpstreamSocket(socket);
  }, SOCKET_RECHECK_MS);
  sweep.unref();
  proxy.on("error", (err, req, res) => {
    log.warn("proxy upstream error", { error: err });
    // The container may have gone or changed address before its event arrived: look it up again next time.
    const workspaceId = (req as WithToken)[WORKSPACE_KEY];
    if (workspaceId) forgetWorkspace(workspaceId);
    if (res && "writeHead" in res) send(res as http.ServerResponse, 502, "The workspace did not answer. It may still be starting; try again in a moment.");
    else (res as Duplex | undefined)?.destroy();
  });

  /**
   * The proxy's first half of the handshake: this browser gets a nonce cookie (kept if it already has one, so two
   * tabs opening the workspace at once do not undo each other), then goes to the dashboard, which signs a grant for
   * the nonce's hash. Only a browser holding the nonce can redeem that grant.
   */
  function startHandshake(req: http.IncomingMessage, res: http.ServerResponse, workspaceId: string, next: string): void {
    const held = parseCookies(req.headers.cookie).get(handshakeCookieName(workspaceId));
    const nonce = held && /^[A-Za-z0-9_-]{32}$/.test(held) ? held : newBrowserNonce();
    const open = new URL(`/open/${workspaceId}`, config.publicUrl);
    open.searchParams.set("state", nonce);
    open.searchParams.set("next", next);
    res.writeHead(302, {
      Location: open.toString(),
      "Set-Cookie": `${handshakeCookieName(workspaceId)}=${nonce}; ${cookieAttributes(workspaceId, `/w/${workspaceId}/_gantry/`, HANDSHAKE_TTL_S)}`,
      "Cache-Control": "no-store",
    });
    res.end();
  }

  async function handleGrant(req: http.IncomingMessage, res: http.ServerResponse, workspaceId: string, url: URL) {
    const grant = await readGrant(url.searchParams.get("grant"));
    if (!grant) return send(res, 404, "Not found");
    if (grant.workspaceId !== workspaceId) {
      useGrant(grant); // a grant tried on the wrong workspace is spent
      return send(res, 404, "Not found");
    }
    // A grant made for another browser (a planted link) does nothing here: no cookie, and the grant stays unused.
    if (!sameBrowser(grant, parseCookies(req.headers.cookie).get(handshakeCookieName(workspaceId)))) {
      return send(res, 403, otherBrowserPage(workspaceId), { "Content-Type": "text/html; charset=utf-8" });
    }
    if (!useGrant(grant)) return send(res, 404, "Not found");
    const claims: ProxyClaims = { workspaceId, userId: grant.userId, session: grant.session };
    // A new proxy session is minted here: decided on the database's current word, not on the cache's.
    const access = await proxySessionAccess(claims, { fresh: true });
    if (!access) return send(res, 404, "Not found");
    if (access.viaAdmin) {
      const admin = await db().user.findUnique({ where: { id: claims.userId }, select: { id: true, email: true } });
      if (admin) await auditAdminAccess(workspaceId, admin);
    }
    const cookie = await signProxySession(claims);
    res.writeHead(302, {
      Location: safeWorkspacePath(workspaceId, url.searchParams.get("next")),
      "Set-Cookie": [
        `${proxyCookieName(workspaceId)}=${cookie}; ${cookieAttributes(workspaceId, `/w/${workspaceId}/`, PROXY_SESSION_TTL_S)}`,
        `${handshakeCookieName(workspaceId)}=; ${cookieAttributes(workspaceId, `/w/${workspaceId}/_gantry/`, 0)}`,
      ],
      "Cache-Control": "no-store",
    });
    res.end();
  }

  async function handleRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    const match = PATH.exec(url.pathname);
    if (!match) return send(res, 404, "Not found");
    const workspaceId = match[1];
    // With GANTRY_PROXY_HOST_PATTERN, a workspace answers only on its own host.
    if (!onWorkspaceHost(req.headers.host, workspaceId)) return send(res, 404, "Not found");
    if (match[2] === `/${GRANT_PATH}`) return handleGrant(req, res, workspaceId, url);
    // Where the dashboard's own links start (and a proxy session that went stale is replaced).
    if (match[2] === `/${START_PATH}`) return startHandshake(req, res, workspaceId, safeWorkspacePath(workspaceId, url.searchParams.get("next")));

    // A Gantry API token is judged alone: it never falls back to the cookie, and needs no Origin (nothing ambient).
    const apiToken = presentedApiToken(req, url);
    if (apiToken) {
      const access = await tokenAccess(workspaceId, apiToken);
      if (access === "invalid_token") return send(res, 401, "This Gantry API token is not valid (unknown, revoked, or its user is disabled).");
      if (!access) return send(res, 404, "Not found");
      if (!access.target) return send(res, 503, `This workspace is ${access.status}. Start it from the Gantry dashboard.`);
      return forward(req, res, access);
    }

    const session = await sessionFor(req, workspaceId);
    if (!session) {
      // Browsers navigating here are sent through the dashboard (login if needed) and back; API calls get 401.
      if (req.method === "GET" && (req.headers.accept ?? "").includes("text/html")) {
        return startHandshake(req, res, workspaceId, url.pathname + url.search);
      }
      return send(res, 401, "Open this workspace from the Gantry dashboard first.");
    }
    if (crossOrigin(req, workspaceId)) return send(res, 403, "Requests into a workspace must come from the workspace's own pages.");
    const access = await proxyAccess(workspaceId, session.userId);
    if (!access) return send(res, 404, "Not found");
    if (!access.target) return send(res, 503, `This workspace is ${access.status}. Start it from the Gantry dashboard.`);
    return forward(req, res, access);
  }

  /** Sends an admitted request on to the workspace, once a server that has just started listens (see wait-for-upstream). */
  async function forward(req: http.IncomingMessage, res: http.ServerResponse, access: ProxyTarget): Promise<void> {
    touchActivity(access.workspaceId);
    await waitForUpstream(access.target!, access.upstreamKey ?? access.target!, access.startedAt);
    if (res.destroyed) return;
    prepareUpstream(req, access);
    proxy.web(req, res, { target: access.target!, agent: upstreamAgent(access) });
  }

  function refuse(socket: Duplex, status: string): void {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    const match = PATH.exec(url.pathname);
    if (!match) return refuse(socket, "404 Not Found");
    const workspaceId = match[1];
    if (!onWorkspaceHost(req.headers.host, workspaceId)) return refuse(socket, "404 Not Found");
    const apiToken = presentedApiToken(req, url);
    if (apiToken) {
      const access = await tokenAccess(workspaceId, apiToken);
      if (access === "invalid_token") return refuse(socket, "401 Unauthorized");
      if (!access) return refuse(socket, "404 Not Found");
      if (!access.target) return refuse(socket, "503 Service Unavailable");
      return openSocket(req, socket, head, access, async () => {
        const now = await tokenAccess(workspaceId, apiToken);
        return now === "invalid_token" ? null : now;
      });
    }
    // A page on another origin must not open sockets into the workspace with the user's cookie.
    const origin = req.headers.origin;
    if (!origin || !allowedOrigins(req, workspaceId).has(origin)) return refuse(socket, "403 Forbidden");
    const session = await sessionFor(req, workspaceId);
    if (!session) return refuse(socket, "401 Unauthorized");
    const access = await proxyAccess(workspaceId, session.userId);
    if (!access) return refuse(socket, "404 Not Found");
    if (!access.target) return refuse(socket, "503 Service Unavailable");
    openSocket(req, socket, head, access, () => proxySessionAccess(session));
  }

  /** Relays an admitted WebSocket, and keeps asking `stillAllowed` for as long as it is open. */
  function openSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, access: ProxyTarget, stillAllowed: () => Promise<ProxyTarget | null>): void {
    const workspaceId = access.workspaceId;
    touchActivity(workspaceId);
    // A frame the browser sends by itself (the pong to Jupyter's ping every 30 s, even from a hidden tab) is not use:
    // only data frames count. A client's frame starts a chunk as a rule; the opcode is the first byte's low nibble.
    socket.on("data", (chunk: Buffer) => {
      if (chunk.length && (chunk[0] & 0x0f) >= 0x8) return;
      touchActivity(workspaceId);
    });
    openSockets.set(socket, stillAllowed);
    socket.on("close", () => openSockets.delete(socket));
    void waitForUpstream(access.target!, access.upstreamKey ?? access.target!, access.startedAt).then(() => {
      if (socket.destroyed) return;
      prepareUpstream(req, access);
      proxy.ws(req, socket, head, { target: access.target! });
    });
  }

  return {
    handleRequest: (req: http.IncomingMessage, res: http.ServerResponse) =>
      handleRequest(req, res).catch((e) => {
        log.error("proxy request failed", { error: e });
        send(res, 500, "Proxy error");
      }),
    handleUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      handleUpgrade(req, socket, head).catch((e) => {
        log.error("proxy upgrade failed", { error: e });
        socket.destroy();
      }),
    close: () => {
      clearInterval(sweep);
      unsubscribe();
      for (const pool of upstreamPools.values()) pool.agent.destroy();
      proxy.close();
    },
  };
}
