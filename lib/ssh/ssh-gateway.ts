import crypto from "node:crypto";
import { RateLimiterMemory } from "rate-limiter-flexible";
import ssh2, { type Client as SshClient, type Connection, type ClientChannel, type ServerChannel, type Session, type PseudoTtyInfo, type PublicKeyAuthContext, type AuthContext } from "ssh2";
import protocolUtils from "ssh2/lib/protocol/utils.js";
import { db } from "../db/client";
import { recordAudit } from "../audit/record-audit";
import { subscribe } from "../events/bus";
import { log } from "../log";
import { openDirectSftp, startSftpListener, type DirectSftpTools, type SftpListener } from "./direct-sftp";
import { loadHostKey } from "./host-key";
import { fingerprintOf } from "./ssh-public-key";
import { pickWorkspace, shownUsername, workspaceRefFromUsername } from "./ssh-target";
import { holdSession } from "../workspaces/activity";
import { ensureInnerSshd, forgetInnerSshd, NoSshServerError, type InnerSshd } from "./inner-sshd";

// The SSH gateway: one ssh2 server in Gantry's process. The key a client proves identifies the Gantry user; the user
// name picks one of that user's own workspaces (by id or name). Admins get no one else's workspace here: an SSH
// session is a full shell as the workspace's user, and the proxy's admin rule exists for looking at a notebook in a
// browser under per-workspace origins, which has no counterpart here.
//
// Each authenticated connection gets one ssh2 client to the workspace's own sshd (lib/ssh/inner-sshd.ts) and its
// channels are relayed to it: sessions (pty, window changes, shell, exec with its exit status, a few env values) and
// direct-tcpip (ssh -L to the container's own loopback, forwarded by the inner sshd). sftp goes straight to the
// image's sftp-server where it can (lib/ssh/direct-sftp.ts), else through the inner sshd too.

const FAIL_LIMIT = 30;
const FAIL_WINDOW_S = 15 * 60;
const AUTH_TIMEOUT_MS = 30_000;
const RECHECK_MS = 5_000;
// CommonJS modules: Node's ESM loader sees only their default exports.
const { Client, Server, utils } = ssh2;
const { sendPacket, writeUInt32BE } = protocolUtils;
type Client = SshClient;
const ENV_ALLOWED = /^(LANG|LC_[A-Z]+)$/;
const failures = new RateLimiterMemory({ keyPrefix: "ssh-address", points: FAIL_LIMIT, duration: FAIL_WINDOW_S });

type Live = {
  /** Ends this connection's count as an open session of its workspace (idle culling). */
  release: () => void;
  conn: Connection;
  inner: Client;
  userId: string;
  keyId: string;
  workspaceId: string;
  containerId: string;
  closed: boolean;
  /** What reaches the workspace without the inner connection (direct sftp sockets): closed with the connection. */
  held: Set<{ close(): void }>;
};
const live = new Set<Live>();

/** A USERAUTH_BANNER (RFC 4252 §5.4): OpenSSH prints it to stderr, so a refusal reaches the user as one line. */
function sendBanner(conn: Connection, text: string): void {
  // ssh2 only sends its static banner once; a refusal is per attempt, so the packet is written the way ssh2 does.
  const proto = (conn as unknown as { _protocol: any })._protocol;
  try {
    const line = `${text}\r\n`;
    const len = Buffer.byteLength(line);
    const p = proto._packetRW.write.allocStart;
    const packet = proto._packetRW.write.alloc(1 + 4 + len + 4);
    packet[p] = 53; // SSH_MSG_USERAUTH_BANNER
    writeUInt32BE(packet, len, p + 1);
    packet.utf8Write(line, p + 5, len);
    writeUInt32BE(packet, 0, p + 5 + len);
    sendPacket(proto, proto._packetRW.write.finalize(packet));
  } catch (e) {
    log.warn("could not send an SSH banner", { error: e });
  }
}

type Decision =
  | { ok: true; user: { id: string; email: string }; keyId: string; workspace: { id: string; name: string; containerId: string }; inner: InnerSshd }
  | { ok: false; reason: string; user?: { id: string; email: string }; workspaceId?: string };

async function decide(username: string, key: { id: string; user: { id: string; email: string; disabled: boolean } }): Promise<Decision> {
  const user = { id: key.user.id, email: key.user.email };
  if (key.user.disabled) return { ok: false, user, reason: "Your Gantry account is disabled." };
  const ref = workspaceRefFromUsername(username);
  // Ownership is part of the query: another user's workspace is as unknown as one that does not exist.
  const own = ref ? await db().workspace.findMany({ where: { userId: user.id }, select: { id: true, name: true, status: true, containerId: true } }) : [];
  const ws = ref ? pickWorkspace(own, ref) : null;
  if (!ws) return { ok: false, user, reason: `You have no workspace named "${shownUsername(username)}"; connect as <workspace name or id>@host.` };
  if (ws.status !== "running" || !ws.containerId) {
    return { ok: false, user, workspaceId: ws.id, reason: `Workspace "${ws.name}" is ${ws.status}; start it in the Gantry dashboard first.` };
  }
  try {
    const inner = await ensureInnerSshd(ws.id, ws.containerId);
    return { ok: true, user, keyId: key.id, workspace: { id: ws.id, name: ws.name, containerId: ws.containerId }, inner };
  } catch (e) {
    if (e instanceof NoSshServerError) return { ok: false, user, workspaceId: ws.id, reason: e.message };
    log.warn("could not start sshd in a workspace", { workspaceId: ws.id, error: e });
    return { ok: false, user, workspaceId: ws.id, reason: `Workspace "${ws.name}" did not start its SSH server; try again, or use the browser terminal.` };
  }
}

function connectInner(inner: InnerSshd): Promise<Client> {
  return new Promise((resolve, reject) => {
    const c = new Client();
    c.once("ready", () => resolve(c));
    c.once("error", reject);
    c.connect({
      host: inner.address,
      port: inner.port,
      username: inner.user,
      privateKey: inner.privateKey,
      // The host key the container made and printed; nothing else on the network can answer for it.
      hostVerifier: (key: Buffer) => key.length === inner.hostKey.length && crypto.timingSafeEqual(key, inner.hostKey),
      readyTimeout: 15_000,
      keepaliveInterval: 15_000,
    });
  });
}

async function audit(action: "ssh.connect" | "ssh.refused", d: { user?: { id: string; email: string }; workspaceId?: string; reason?: string; username: string; address: string; fingerprint?: string }) {
  await recordAudit(db(), {
    actor: d.user ?? null,
    action,
    targetType: "workspace",
    targetId: d.workspaceId ?? null,
    after: { reason: d.reason, workspace: shownUsername(d.username), clientAddress: d.address, keyFingerprint: d.fingerprint },
  }).catch((e) => log.warn("could not audit an SSH connection", { error: e }));
}

type Target = {
  inner: Client;
  address: string;
  directSftp: DirectSftpTools | null;
  /** Ties something to the connection: it is closed with it, whoever ends it (the client, or access that ended). */
  hold: (c: { close(): void }) => () => void;
  /** A listener started as the client signed in (scp and VS Code ask for sftp at once); the first session takes it. */
  takeEarly: () => Promise<SftpListener | null> | null;
};

/**
 * An sftp session on a socket straight to the image's sftp-server (lib/ssh/direct-sftp.ts); when that cannot be
 * opened, through the inner sshd as every other channel (`fallback`, given the channel already accepted).
 *
 * The channel is accepted at once: OpenSSH sends its first sftp packet without waiting for the reply to its
 * subsystem request, and ssh2 drops data on a session not yet accepted. What arrives meanwhile waits in the channel.
 */
function relaySftp(stream: ServerChannel, target: Target & { directSftp: DirectSftpTools }, fallback: () => void): void {
  let gone = false;
  stream.once("close", () => (gone = true));
  stream.on("error", () => {});
  const early = target.takeEarly();
  const open = async () => {
    const l = early ? await early : null;
    if (l && Date.now() < l.until) {
      const direct = await l.connect().catch(() => null);
      if (direct) return direct;
    } else l?.close();
    return openDirectSftp(target.inner, target.address, target.directSftp);
  };
  open().then(
    (direct) => {
      if (gone) return direct.close();
      const release = target.hold(direct);
      const sock = direct.socket;
      stream.pipe(sock);
      sock.pipe(stream, { end: false });
      sock.once("end", () => {
        stream.exit(0);
        stream.end();
      });
      sock.on("error", () => stream.close());
      stream.once("close", () => (release(), direct.close()));
    },
    (e) => {
      if (gone) return;
      log.warn("could not open sftp-server in a workspace directly; relaying through its sshd", { error: e });
      fallback();
    },
  );
}

/** Runs one session channel on the inner connection, relaying every request the client makes on it. */
function relaySession(session: Session, target: Target): void {
  const { inner } = target;
  let pty: PseudoTtyInfo | null = null;
  let window: { rows: number; cols: number; height: number; width: number } | null = null;
  const env: NodeJS.ProcessEnv = {} as NodeJS.ProcessEnv;
  let channel: ClientChannel | null = null;
  // One program per session (shell, exec or subsystem), as in OpenSSH: a second request is refused, never run.
  let taken = false;
  const take = (accept: () => ServerChannel | undefined, reject?: () => void): ServerChannel | null => {
    if (taken) return reject?.(), null;
    taken = true;
    return accept() ?? null;
  };

  const start = (stream: ServerChannel | null, open: (cb: (err: Error | undefined, ch: ClientChannel) => void) => void) => {
    if (!stream) return;
    const opened = (err: Error | undefined, ch: ClientChannel) => {
      if (err) {
        stream.stderr.write(`gantry: the workspace refused the session: ${err.message}\r\n`);
        stream.exit(1);
        stream.end();
        return;
      }
      channel = ch;
      if (window) ch.setWindow(window.rows, window.cols, window.height, window.width);
      // The client hears the exit status after all output, and before the channel ends. The inner sshd may send its
      // EOF before the exit status (output closed while the process still ran), so wait for both, or for its close.
      let exit: unknown[] | null = null;
      let ends = 0;
      let innerClosed = false;
      let done = false;
      const finish = () => {
        if (done || ends < 2 || (!exit && !innerClosed)) return;
        done = true;
        if (exit) {
          const [code, signal, dumped, desc] = exit as [number | null, string?, boolean?, string?];
          if (code !== null && code !== undefined) stream.exit(code);
          else if (signal) stream.exit(signal.replace(/^SIG/, ""), !!dumped, desc ?? "");
        }
        stream.end();
      };
      ch.on("exit", (...args: unknown[]) => ((exit = args), finish()));
      stream.pipe(ch);
      ch.pipe(stream, { end: false });
      ch.stderr.pipe(stream.stderr, { end: false });
      ch.once("end", () => (ends++, finish()));
      ch.stderr.once("end", () => (ends++, finish()));
      ch.once("close", () => {
        innerClosed = true;
        finish();
        // A channel that closed without ending its output: give the pipes a moment, then close ours.
        setTimeout(() => done || ((done = true), stream.end(), stream.close()), 1000).unref();
      });
      stream.once("close", () => ch.close());
    };
    try {
      open(opened);
    } catch (e) {
      // The inner connection went away meanwhile (access ended, the workspace stopped): the session ends with it.
      opened(e as Error, null as unknown as ClientChannel);
    }
  };
  // Lands in /workspace: the inner sshd starts a command in the user's home, so the gateway asks for the directory.
  const inWorkspace = (command: string) => `cd /workspace 2>/dev/null; ${command}`;
  const ptyOptions = () => (pty ? { rows: window?.rows ?? pty.rows, cols: window?.cols ?? pty.cols, height: pty.height, width: pty.width, term: pty.term, modes: pty.modes } : false);

  session.on("pty", (accept, _reject, info) => {
    pty = info;
    accept?.();
  });
  session.on("window-change", (accept, _reject, info) => {
    window = info;
    channel?.setWindow(info.rows, info.cols, info.height, info.width);
    accept?.();
  });
  session.on("env", (accept, reject, info) => {
    if (ENV_ALLOWED.test(info.key) && Object.keys(env).length < 32) {
      env[info.key] = String(info.val).slice(0, 256);
      accept?.();
    } else reject?.();
  });
  session.on("shell", (accept, reject) => start(take(accept, reject), (cb) => inner.exec(inWorkspace('exec "${SHELL:-/bin/sh}" -l'), { pty: ptyOptions(), env }, cb)));
  session.on("exec", (accept, reject, info) => start(take(accept, reject), (cb) => inner.exec(inWorkspace(info.command), { pty: ptyOptions(), env }, cb)));
  session.on("subsystem", (accept, reject, info) => {
    if (info.name !== "sftp") return reject?.();
    const stream = take(accept, reject);
    if (!stream) return;
    const viaSshd = () => start(stream, (cb) => inner.subsys("sftp", cb));
    if (target.directSftp) return relaySftp(stream, { ...target, directSftp: target.directSftp }, viaSshd);
    viaSshd();
  });
  session.on("signal", (accept, _reject, info) => {
    channel?.signal(info.name);
    accept?.();
  });
  session.on("x11", (_accept, reject) => reject?.());
  session.on("auth-agent", (_accept, reject) => reject?.());
}

function close(l: Live, why: string): void {
  if (l.closed) return;
  l.closed = true;
  live.delete(l);
  l.release();
  if (why !== "the client left") log.info("closing an SSH session", { workspaceId: l.workspaceId, userId: l.userId, why });
  // What reaches the workspace directly is closed first, and the inner connection a moment later: the listener and
  // sftp-server then exit while the inner sshd, their parent, still runs to reap them.
  const held = [...l.held];
  l.held.clear();
  for (const c of held) c.close();
  if (held.length) setTimeout(() => l.inner.end(), 500).unref();
  else l.inner.end();
  l.conn.end();
  // end() asks the client to hang up; one that does not is cut off, so nothing it sends reaches the workspace.
  const sock = (l.conn as unknown as { _sock?: { destroy(): void } })._sock;
  if (sock) setTimeout(() => sock.destroy(), 2000).unref();
}

/** Is this connection still allowed: the key still the user's, the user enabled, the workspace running the same container? */
async function stillAllowed(l: Live): Promise<boolean> {
  const [key, ws] = await Promise.all([
    db().sshKey.findFirst({ where: { id: l.keyId, userId: l.userId }, select: { user: { select: { disabled: true } } } }),
    db().workspace.findFirst({ where: { id: l.workspaceId, userId: l.userId }, select: { status: true, containerId: true } }),
  ]);
  return !!key && !key.user.disabled && !!ws && ws.status === "running" && ws.containerId === l.containerId;
}

function recheck(filter: (l: Live) => boolean): void {
  for (const l of [...live].filter(filter)) {
    void stillAllowed(l)
      .then((ok) => ok || close(l, "access ended"))
      .catch((e) => log.warn("could not re-check an SSH session", { error: e }));
  }
}

function handleConnection(conn: Connection, address: string): void {
  let state: { user: Decision & { ok: true }; inner: Client; username: string; fingerprint: string } | null = null;
  let refusedOnce = false;
  let attempts = 0;
  const authTimer = setTimeout(() => conn.end(), AUTH_TIMEOUT_MS);
  authTimer.unref();
  conn.on("error", () => {});

  const refuse = async (ctx: AuthContext, reason: string, d: Parameters<typeof audit>[1], countFailure = true) => {
    sendBanner(conn, reason);
    if (countFailure) await failures.penalty(address, 1).catch(() => {});
    // One audit line per connection, so a client that offers many keys cannot flood the log.
    if (!refusedOnce) {
      refusedOnce = true;
      await audit("ssh.refused", d);
    }
    ctx.reject(["publickey"]);
  };

  conn.on("authentication", (ctx) => {
    void (async () => {
      if (++attempts > 10) return conn.end();
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      const pk = ctx as PublicKeyAuthContext;
      const spent = await failures.get(address).catch(() => null);
      if ((spent?.consumedPoints ?? 0) >= FAIL_LIMIT) {
        sendBanner(conn, "Too many refused SSH sign-ins from your address; try again in a few minutes.");
        return ctx.reject([]);
      }
      const fingerprint = fingerprintOf(pk.key.data);
      const key = await db().sshKey.findUnique({ where: { fingerprint }, select: { id: true, publicKey: true, user: { select: { id: true, email: true, disabled: true } } } });
      if (!key) {
        return refuse(ctx, "Gantry knows no such SSH key; add your public key under Settings -> SSH keys in the dashboard.", { username: ctx.username, address, reason: "unknown key", fingerprint });
      }
      // Without a signature the client only asks whether the key would do; say yes and wait for the proof.
      if (!pk.signature || !pk.blob) return ctx.accept();
      const stored = utils.parseKey(key.publicKey);
      if (stored instanceof Error || Array.isArray(stored) || !stored.getPublicSSH().equals(pk.key.data) || stored.verify(pk.blob, pk.signature, pk.hashAlgo) !== true) {
        return refuse(ctx, "The SSH key's signature did not verify.", { username: ctx.username, address, reason: "bad signature", fingerprint });
      }
      const d = await decide(ctx.username, key);
      if (!d.ok) return refuse(ctx, d.reason, { user: d.user, workspaceId: d.workspaceId, username: ctx.username, address, reason: d.reason, fingerprint });
      // The inner connection is made before the client hears "success": it opens its channels at once.
      let inner: Client;
      try {
        inner = await connectInner(d.inner);
      } catch (e) {
        log.warn("could not reach sshd in a workspace", { workspaceId: d.workspace.id, error: e });
        forgetInnerSshd(d.workspace.id);
        const reason = `Workspace "${d.workspace.name}" did not answer on its SSH server; try again, or use the browser terminal.`;
        return refuse(ctx, reason, { user: d.user, workspaceId: d.workspace.id, username: ctx.username, address, reason, fingerprint }, false);
      }
      if (state) inner.end();
      else state = { user: d, inner, username: ctx.username, fingerprint };
      ctx.accept();
    })().catch((e) => {
      log.warn("SSH authentication failed on the server", { error: e });
      try {
        sendBanner(conn, "Gantry could not check this sign-in; try again in a moment.");
        ctx.reject(["publickey"]);
      } catch {
        conn.end();
      }
    });
  });

  conn.on("ready", () => {
    clearTimeout(authTimer);
    const s = state!;
    const inner = s.inner;
    {
      const l: Live = { conn, inner, userId: s.user.user.id, keyId: s.user.keyId, workspaceId: s.user.workspace.id, containerId: s.user.workspace.containerId, closed: false, held: new Set(), release: holdSession(s.user.workspace.id) };
      live.add(l);
      inner.on("error", () => close(l, "the workspace's sshd went away"));
      inner.on("close", () => close(l, "the workspace's sshd closed"));
      conn.on("close", () => close(l, "the client left"));
      void audit("ssh.connect", { user: s.user.user, workspaceId: s.user.workspace.id, username: s.username, address, fingerprint: s.fingerprint });

      const hold = (c: { close(): void }) => {
        if (l.closed) return c.close(), () => {};
        l.held.add(c);
        return () => void l.held.delete(c);
      };
      // Over the inner connection, so nothing but a channel and a python3 that ends by itself within 10 s if unused.
      let early: Promise<SftpListener | null> | null = s.user.inner.directSftp
        ? startSftpListener(inner, s.user.inner.address, s.user.inner.directSftp).then(
            (listener) => (hold(listener), listener),
            () => null,
          )
        : null;
      const target: Target = {
        inner,
        address: s.user.inner.address,
        directSftp: s.user.inner.directSftp,
        hold,
        takeEarly: () => {
          const taken = early;
          early = null;
          return taken;
        },
      };
      conn.on("session", (accept) => relaySession(accept(), target));
      conn.on("tcpip", (accept, reject, info) => {
        inner.forwardOut(info.srcIP, info.srcPort, info.destIP, info.destPort, (err, ch) => {
          if (err) return reject();
          const stream = accept();
          stream.pipe(ch).pipe(stream);
          stream.on("close", () => ch.close());
          ch.on("close", () => stream.close());
        });
      });
      conn.on("request", (accept, reject) => reject?.());
    }
  });
  // A client that leaves between authentication and "ready" must not leave the inner connection open.
  conn.on("close", () => state?.inner.end());
}

export type SshGateway = { close(): void; port(): number };

/** Starts the gateway on `port` (0: any free port). Resolves once it listens. */
export function startSshGateway(port: number, host: string): Promise<SshGateway> {
  const hostKey = loadHostKey();
  // AES-GCM only: the client's order decides, and OpenSSH's first choice (chacha20-poly1305) costs the gateway, which
  // decrypts and encrypts every byte once more than a direct connection, more CPU than AES with the CPU's AES
  // instructions. Every OpenSSH since 6.2 (2013), PuTTY since 0.76 and VS Code's client offer AES-GCM.
  const server = new Server(
    { hostKeys: [hostKey.privateKey], ident: "Gantry", algorithms: { cipher: ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com"] } },
    (conn, info) => handleConnection(conn, info.ip),
  );
  const unsubscribe = subscribe((e) => {
    if (e.type === "user-changed" || e.type === "ssh-keys-changed") recheck((l) => l.userId === e.userId);
    else if (e.type === "workspace-deleted") {
      for (const l of [...live]) if (l.workspaceId === e.workspaceId) close(l, "workspace deleted");
      forgetInnerSshd(e.workspaceId);
    } else if (e.type === "workspace") recheck((l) => l.workspaceId === e.workspaceId);
  });
  // Changes made by another process (the CLI) publish nothing here: every session is re-checked a few times a minute.
  const timer = setInterval(() => recheck(() => true), RECHECK_MS);
  timer.unref();
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      server.on("error", (e: Error) => log.warn("SSH gateway error", { error: e }));
      resolve({
        port: () => (server.address() as { port: number }).port,
        close() {
          clearInterval(timer);
          unsubscribe();
          for (const l of [...live]) close(l, "shutting down");
          server.close();
        },
      });
    });
  });
}
