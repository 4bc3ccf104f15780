import http from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { backend } from "../backend/backend";
import type { Attached } from "../backend/types";
import { recordAudit } from "../audit/record-audit";
import { resolveUpgradeSession, upgradeSessionStands, type SessionEnd, type UpgradeSession } from "../auth/caller";
import { db } from "../db/client";
import { isApiError } from "../errors";
import { mayChangeAccess, subscribe } from "../events/bus";
import { isDashboardOrigin } from "../http/origin";
import { log } from "../log";
import { holdSession, touchActivity } from "../workspaces/activity";
import { proxyAccess } from "../proxy/proxy-access";
import { CLOSE, DEFAULT_SIZE, MAX_FRAME_BYTES, TERMINAL_PATH, parseControl, parseSize } from "./terminal-protocol";

// The browser terminal: GET /api/workspaces/<id>/terminal upgraded to a WebSocket on the dashboard's own port (the
// custom server hands it here before Next). Who may open it is decided on the upgrade, by the same rules as the
// rest of the dashboard: the session cookie (never a token: a browser cannot send one on a WebSocket), the
// dashboard's Origin (a page elsewhere must not open a shell with the user's cookie), and proxyAccess (the owner,
// or an admin where admin access is on). Every open terminal is checked again on each relevant event and every
// few seconds, and closed with the reason once its session, its access or its workspace's running state is gone.

/** How often every open terminal is checked again, besides at once on every change the bus announces. */
export const RECHECK_MS = 4_000;
/** Terminals one user may hold open at once (each is a process in a container). */
const MAX_PER_USER = 8;
/** Output waiting for a slow browser beyond this pauses the shell's output until it drains. */
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;

/**
 * The login shell: bash when the image has it, else sh; run by /bin/sh, which every image Gantry can run a
 * terminal in has. It starts in /workspace with a 256-colour TERM, as the container's own (non-root) user.
 */
export const SHELL_COMMAND = ["/bin/sh", "-c", 'if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi'];
const SHELL_ENV = ["TERM=xterm-256color", "COLORTERM=truecolor"];

const SESSION_REASONS: Record<SessionEnd, string> = {
  signed_out: "Signed out",
  expired: "Session expired: sign in again",
  password_changed: "Password changed: sign in again",
  disabled: "Account disabled",
  deleted: "Account deleted",
};

/** What a workspace that left "running" is doing, as the terminal's last line says it. */
const STATUS_REASONS: Record<string, string> = {
  resetting: "Workspace is being reset",
  deleting: "Workspace deleted",
  error: "Workspace failed",
};

/** A ping this often keeps proxies from dropping an idle terminal, and finds browsers that vanished without a close. */
const PING_MS = 25_000;

type Open = {
  /** Ends this terminal's count as an open session of its workspace (idle culling). */
  release: () => void;
  ws: WebSocket;
  session: UpgradeSession;
  workspaceId: string;
  attached: Attached;
  closing: boolean;
  alive: boolean;
};

function refuse(socket: Duplex, status: string, message: string): void {
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function isTerminalUpgrade(req: http.IncomingMessage): boolean {
  const path = (req.url ?? "").split("?")[0];
  return TERMINAL_PATH.test(path);
}

export function createTerminalServer() {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });
  const open = new Set<Open>();

  /** Why this terminal must end now, or null while it may go on. */
  async function endReason(t: Open): Promise<{ code: number; reason: string } | null> {
    const standing = await upgradeSessionStands(t.session);
    if (!standing.ok) return { code: CLOSE.sessionEnded, reason: SESSION_REASONS[standing.ended] };
    const access = await proxyAccess(t.workspaceId, t.session.caller.id);
    if (!access) {
      const exists = await db().workspace.findUnique({ where: { id: t.workspaceId }, select: { id: true } });
      return { code: CLOSE.accessEnded, reason: exists ? "Access to this workspace ended" : "Workspace deleted" };
    }
    if (access.status !== "running") return { code: CLOSE.workspaceStopped, reason: STATUS_REASONS[access.status] ?? "Workspace stopped" };
    return null;
  }

  function end(t: Open, code: number, reason: string): void {
    if (t.closing) return;
    t.closing = true;
    open.delete(t);
    t.release();
    t.attached.close();
    if (t.ws.readyState === t.ws.OPEN || t.ws.readyState === t.ws.CONNECTING) t.ws.close(code, reason);
    // A browser that never answers the close handshake is not waited for.
    setTimeout(() => t.ws.terminate(), 5_000).unref();
  }

  async function recheck(t: Open): Promise<void> {
    if (t.closing) return;
    const why = await endReason(t).catch((e) => {
      // The database or the cache failing is not a reason to keep a shell open that may no longer be allowed.
      log.warn("terminal recheck failed", { error: e, workspaceId: t.workspaceId });
      return { code: CLOSE.serverError, reason: "Could not check access; reconnecting" };
    });
    if (why) end(t, why.code, why.reason);
  }

  let checking: Promise<void> | null = null;
  function recheckAll(): Promise<void> {
    checking ??= Promise.all([...open].map(recheck))
      .then(() => undefined)
      .finally(() => (checking = null));
    return checking;
  }
  const sweep = setInterval(() => void recheckAll(), RECHECK_MS);
  sweep.unref();
  const pinger = setInterval(() => {
    for (const t of [...open]) {
      if (!t.alive) {
        end(t, 1001, "No answer from the browser");
        continue;
      }
      t.alive = false;
      t.ws.ping();
    }
  }, PING_MS);
  pinger.unref();
  const unsubscribe = subscribe((event) => {
    // Queued: proxyAccess's cache drops what the event changed in its own listener first.
    const hit = [...open].filter((t) =>
      event.type === "user-changed" ? event.userId === t.session.caller.id : event.type === "settings-changed" ? true : "workspaceId" in event && event.workspaceId === t.workspaceId,
    );
    if (hit.length && mayChangeAccess(event)) queueMicrotask(() => void Promise.all(hit.map(recheck)));
  });

  function serve(ws: WebSocket, session: UpgradeSession, workspaceId: string, attached: Attached): void {
    const t: Open = { ws, session, workspaceId, attached, closing: false, alive: true, release: holdSession(workspaceId) };
    ws.on("pong", () => (t.alive = true));
    open.add(t);
    const { stream } = attached;

    stream.on("data", (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(chunk, { binary: true }, () => {
        if (stream.isPaused() && ws.bufferedAmount < LOW_WATER) stream.resume();
      });
      if (ws.bufferedAmount > HIGH_WATER) stream.pause();
    });
    stream.on("error", () => {});
    stream.on("end", () => {
      // The shell ended by itself (exit, or its container stopped): say which.
      void attached.exited.then(async (code) => {
        const why = await endReason(t).catch(() => null);
        end(t, why?.code ?? CLOSE.shellExited, why?.reason ?? (code === null ? "Shell exited" : `Shell exited (code ${code})`));
      });
    });

    ws.on("message", (data: RawData, isBinary: boolean) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (isBinary) {
        touchActivity(workspaceId);
        if (!stream.write(buf)) {
          ws.pause();
          stream.once("drain", () => ws.resume());
        }
        return;
      }
      const control = parseControl(buf.toString("utf8"));
      if (!control) return end(t, CLOSE.protocol, "Unsupported message");
      attached.resize(control.cols, control.rows).catch(() => {});
    });
    ws.on("error", () => end(t, CLOSE.serverError, "Connection error"));
    ws.on("close", () => end(t, 1000, ""));
  }

  async function handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const url = new URL(req.url ?? "/", "http://dashboard.invalid");
    const workspaceId = TERMINAL_PATH.exec(url.pathname)?.[1];
    if (!workspaceId || req.method !== "GET") return refuse(socket, "404 Not Found", "Not found");
    const protocol = "encrypted" in req.socket && req.socket.encrypted ? "https:" : "http:";
    if (!isDashboardOrigin(req.headers.origin, req.headers.host, protocol)) {
      return refuse(socket, "403 Forbidden", "A terminal opens only from the Gantry dashboard itself (Origin check failed).");
    }
    // Session only: API tokens cannot be sent by a browser's WebSocket, and a terminal is for people.
    const session = await resolveUpgradeSession(req.headers.cookie);
    if (!session) return refuse(socket, "401 Unauthorized", "Sign in to the dashboard to open a terminal.");
    const caller = session.caller;
    const access = await proxyAccess(workspaceId, caller.id, { fresh: true });
    if (!access) return refuse(socket, "404 Not Found", "Not found");
    if (access.status !== "running") return refuse(socket, "409 Conflict", `This workspace is ${access.status}. Start it to open a terminal.`);
    if ([...open].filter((t) => t.session.caller.id === caller.id).length >= MAX_PER_USER) {
      return refuse(socket, "429 Too Many Requests", `You have ${MAX_PER_USER} terminals open; close one first.`);
    }
    const ws = await db().workspace.findUnique({ where: { id: workspaceId }, select: { containerId: true } });
    if (!ws?.containerId) return refuse(socket, "409 Conflict", "This workspace has no container yet.");
    const size = parseSize(url.searchParams.get("cols"), url.searchParams.get("rows")) ?? DEFAULT_SIZE;

    let attached: Attached;
    try {
      attached = await backend().attach(ws.containerId, { cmd: SHELL_COMMAND, workingDir: "/workspace", env: SHELL_ENV, tty: true, ...size });
    } catch (e) {
      log.warn("terminal attach failed", { error: e, workspaceId });
      const status = isApiError(e) ? e.status : 409;
      return refuse(socket, `${status} ${http.STATUS_CODES[status] ?? ""}`, isApiError(e) ? e.message : "The terminal could not be started.");
    }
    try {
      // No terminal without its audit record (an admin's use of someone else's workspace above all).
      await recordAudit(db(), {
        actor: { id: caller.id, email: caller.email },
        action: "terminal.open",
        targetType: "workspace",
        targetId: workspaceId,
        after: { viaAdmin: access.viaAdmin },
      });
    } catch (e) {
      attached.close();
      throw e;
    }
    if (socket.destroyed) return attached.close();
    wss.handleUpgrade(req, socket, head, (client) => serve(client, session, workspaceId, attached));
  }

  return {
    handleUpgrade: (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      handleUpgrade(req, socket, head).catch((e) => {
        log.error("terminal upgrade failed", { error: e });
        if (!socket.destroyed) refuse(socket, "500 Internal Server Error", "The terminal could not be opened.");
      }),
    /** For tests and the bench: how many terminals are open. */
    openCount: () => open.size,
    close: () => {
      clearInterval(sweep);
      clearInterval(pinger);
      unsubscribe();
      for (const t of [...open]) end(t, CLOSE.serverRestart, "Server restarting");
      wss.close();
    },
  };
}
