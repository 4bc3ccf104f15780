import crypto from "node:crypto";
import net from "node:net";
import type { Client, ClientChannel } from "ssh2";

// sftp (and so scp, which speaks sftp since OpenSSH 9.0, and VS Code's file transfers) without a second encryption.
//
// Relayed through the workspace's sshd, every byte of a copy is decrypted by the gateway, encrypted again for the inner
// connection and decrypted once more by the inner sshd: on a small host that halves the rate of a copy. Instead, for
// each sftp session the gateway runs a one-shot listener in the workspace over its inner SSH connection (an exec
// channel, so the process is the inner sshd's child, as the workspace's user, and reaped by it): the image's python3,
// which every Jupyter image has. It accepts one TCP connection and becomes the image's own sftp-server on it, in
// /workspace. The gateway connects to it over the workspace network and the sftp packets cross in the clear between
// Gantry and the container, as the proxy's HTTP to Jupyter does.
//
// The listener is on the container's own address, like its sshd. Other workspaces cannot reach it (the workspace
// network has inter-container traffic off), and nothing that can (the host and its other users) can use it: it gets a
// 256-bit token on its stdin (the encrypted inner channel; never on a command line), answers only a caller that sends
// exactly that token first (compared in constant time; a caller gets 2 s to send it, and the whole listener 10 s),
// says "ok" to the gateway on the channel only then, serves that one caller and listens no more. Containers run
// without capabilities (no NET_RAW), so none can take over the address. An image without python3 or sftp-server, or
// a listener that fails, gets sftp through its sshd instead (slower, the same files).

const LISTEN_S = 10;
const CALLER_S = 2;

// argv: address, sftp-server path; the token is stdin's first line. Prints the port, then "ok" once the caller proved
// the token, and execs sftp-server on the caller's socket.
const LISTENER = `
import hmac, os, select, socket, sys, time
addr, server = sys.argv[1], sys.argv[2]
if os.getuid() == 0:
    sys.exit(3)
token = sys.stdin.buffer.readline().strip()
if len(token) < 64 or not os.access(server, os.X_OK):
    sys.exit(2)
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.bind((addr, 0))
s.listen(8)
sys.stdout.write("gantry-sftp-port %d\\n" % s.getsockname()[1])
sys.stdout.flush()
deadline = time.monotonic() + ${LISTEN_S}
want = token + b"\\n"
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        break
    # The gateway closing the channel (its stdin) ends the listener at once, so it never outlives its connection.
    ready, _, _ = select.select([s, 0], [], [], left)
    if 0 in ready:
        break
    if not ready:
        break
    try:
        c, _ = s.accept()
    except OSError:
        continue
    got = b""
    until = min(deadline, time.monotonic() + ${CALLER_S})
    try:
        while len(got) < len(want):
            left = until - time.monotonic()
            if left <= 0:
                break
            c.settimeout(left)
            part = c.recv(len(want) - len(got))
            if not part:
                break
            got += part
    except OSError:
        pass
    if len(got) == len(want) and hmac.compare_digest(got, want):
        s.close()
        c.settimeout(None)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sys.stdout.write("gantry-sftp-ok\\n")
        sys.stdout.flush()
        fd = c.detach()
        os.dup2(fd, 0)
        os.dup2(fd, 1)
        os.close(fd)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        if os.path.isdir("/workspace"):
            os.chdir("/workspace")
        try:
            os.execv(server, [server, "-d", "/workspace"])
        except OSError:
            os._exit(127)
    c.close()
sys.exit(1)
`;

export type DirectSftpTools = { python: string; sftpServer: string };

/** The listener's argv (what the inner channel runs, quoted for its shell; tests run the same through Docker). */
export function listenerArgv(tools: DirectSftpTools, address: string): string[] {
  // The program travels base64-encoded inside a one-line bootstrap: nothing in it needs quoting for a shell.
  const program = Buffer.from(LISTENER, "utf8").toString("base64");
  return [tools.python, "-I", "-S", "-c", `import base64;exec(base64.b64decode("${program}"))`, address, tools.sftpServer];
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export type DirectSftp = { socket: net.Socket; close(): void };

/** A listener waiting in the workspace for its one caller (until `until`, ms since the epoch). */
export type SftpListener = { until: number; connect(): Promise<DirectSftp>; close(): void };

/**
 * Starts the listener (see above) over the workspace's inner SSH connection; resolves once it listens. connect() then
 * opens the socket and resolves once the listener said "ok"; anything else rejects, leaving nothing behind.
 */
export function startSftpListener(inner: Client, address: string, tools: DirectSftpTools): Promise<SftpListener> {
  const token = crypto.randomBytes(32).toString("hex");
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let ch: ClientChannel | null = null;
    let port: number | null = null;
    let onLine: ((line: string) => void) | null = null;
    let onEnd: ((why: Error) => void) | null = null;
    // EOF on its stdin ends the listener (it watches for it), then the channel goes.
    const close = () => {
      if (!ch) return;
      ch.end();
      ch.close();
    };
    const timer = setTimeout(() => {
      const why = new Error("the sftp listener did not answer in time");
      if (port === null) reject(why);
      onEnd?.(why);
      close();
    }, (LISTEN_S + 2) * 1000);
    timer.unref();
    let connected = false;
    const connect = (): Promise<DirectSftp> =>
      new Promise((ok, fail) => {
        if (connected || !ch) return fail(new Error("this sftp listener was used already"));
        connected = true;
        // A roomy write buffer: a relay that paused the client's channel after every 32 KB packet would stall it.
        const sock = new net.Socket({ writableHighWaterMark: 1024 * 1024 } as net.SocketConstructorOpts).connect({ host: address, port: port!, noDelay: true });
        let settled = false;
        const give = (e: Error) => (settled ? undefined : ((settled = true), sock.destroy(), close(), fail(e)));
        onEnd = give;
        sock.once("error", give);
        sock.once("connect", () => sock.write(`${token}\n`));
        onLine = (line) => {
          if (settled || line !== "gantry-sftp-ok") return;
          settled = true;
          clearTimeout(timer);
          sock.removeListener("error", give);
          ok({ socket: sock, close: () => (sock.destroy(), close()) });
        };
      });
    inner.exec(`exec ${listenerArgv(tools, address).map(shellQuote).join(" ")}`, (err, channel: ClientChannel) => {
      if (err) return clearTimeout(timer), reject(err);
      ch = channel;
      let out = "";
      channel.on("data", (chunk: Buffer) => {
        out += chunk.toString("latin1");
        let nl: number;
        while ((nl = out.indexOf("\n")) >= 0) {
          const line = out.slice(0, nl).trim();
          out = out.slice(nl + 1);
          // Lines before the port are the user's shell start-up files talking; they are ignored.
          const m = /^gantry-sftp-port (\d{1,5})$/.exec(line);
          if (port === null && m) {
            port = Number(m[1]);
            resolve({ until: started + (LISTEN_S - 2) * 1000, connect, close });
          } else if (port !== null) onLine?.(line);
        }
        if (out.length > 4096) out = out.slice(-256);
      });
      channel.stderr.on("data", () => {});
      channel.on("close", () => {
        clearTimeout(timer);
        const why = new Error(port === null ? "the sftp listener did not start" : "the sftp listener ended before its caller came");
        if (port === null) reject(why);
        onEnd?.(why);
      });
      channel.write(`${token}\n`);
    });
  });
}

/** A listener started now, and connected to. */
export async function openDirectSftp(inner: Client, address: string, tools: DirectSftpTools): Promise<DirectSftp> {
  return (await startSftpListener(inner, address, tools)).connect();
}
