import crypto from "node:crypto";
import net from "node:net";
import { backend } from "../backend/backend";

// sftp (and so scp, which speaks sftp since OpenSSH 9.0, and VS Code's file transfers) without a second SSH connection.
//
// Relayed through the workspace's sshd, every byte of a copy is decrypted by the gateway, encrypted again for the inner
// connection and decrypted once more by the inner sshd: on a small host that halves the rate of a copy. Instead, for
// each sftp session the gateway starts a one-shot listener in the workspace (the image's python3, which every Jupyter
// image has) that accepts one connection and turns it into the image's own sftp-server, running as the workspace's
// user in /workspace. The gateway connects to it over the workspace network and the sftp packets cross in the clear
// between Gantry and the container, as the proxy's HTTP to Jupyter does.
//
// The listener is on the container's own address, like its sshd. Other workspaces cannot reach it (the workspace
// network has inter-container traffic off), and nothing that can (the host and its other users) can use it: it lives
// at most LISTEN_S seconds, answers only a caller that first sends the 256-bit token the gateway gave it on stdin
// (compared in constant time; any other caller is dropped), and closes itself after that one connection. Containers
// run without capabilities (no NET_RAW), so none can take over the address. An image without python3 or sftp-server gets
// sftp through its sshd instead (slower, the same files).

const LISTEN_S = 10;

// argv: address, sftp-server path. The token comes on stdin's first line (never on a command line others could list).
// Prints the port, then leaves a child that waits for the one caller and execs sftp-server on its socket.
const LISTENER = `
import hmac, os, socket, sys, time
addr, server = sys.argv[1], sys.argv[2]
token = sys.stdin.readline().strip().encode()
if len(token) < 64: sys.exit(2)
s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
s.bind((addr, 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
if os.fork():
    os._exit(0)
os.setsid()
null = os.open(os.devnull, os.O_RDWR)
os.dup2(null, 0)
os.dup2(null, 1)
os.dup2(null, 2)
deadline = time.monotonic() + ${LISTEN_S}
while True:
    try:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        c, _ = s.accept()
    except Exception:
        os._exit(1)
    c.settimeout(2)
    # Exactly the token's bytes and its newline: what follows is already sftp, and belongs to sftp-server.
    want = len(token) + 1
    got = b""
    try:
        while len(got) < want:
            part = c.recv(want - len(got))
            if not part:
                break
            got += part
    except Exception:
        pass
    if hmac.compare_digest(got, token + b"\\n"):
        s.close()
        c.settimeout(None)
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = c.detach()
        os.dup2(fd, 0)
        os.dup2(fd, 1)
        os.close(fd)
        os.chdir("/workspace") if os.path.isdir("/workspace") else None
        os.execv(server, [server, "-d", "/workspace"])
    c.close()
`;

export type DirectSftpTools = { python: string; sftpServer: string };

/** A listener waiting in the workspace for its one caller, until `until` (ms since the epoch). */
export type SftpListener = { address: string; port: number; token: string; until: number };

/** Starts a one-shot listener in the workspace (see above); resolves once it listens. */
export async function startSftpListener(containerId: string, address: string, tools: DirectSftpTools): Promise<SftpListener> {
  const token = crypto.randomBytes(32).toString("hex");
  const started = Date.now();
  // -I -S: no user site, no site module; the listener needs only the standard library and starts faster.
  const res = await backend().exec(containerId, [tools.python, "-I", "-S", "-c", LISTENER, address, tools.sftpServer], { timeoutMs: 10_000, stdin: `${token}\n` });
  const port = /^\s*(\d{1,5})\s*$/.exec(res.stdout)?.[1];
  if (res.exitCode !== 0 || !port) throw new Error(`the sftp listener did not start (exit ${res.exitCode}): ${res.stderr.trim().split("\n").pop() ?? ""}`);
  // A margin of 2 s: a caller later than that may find it gone.
  return { address, port: Number(port), token, until: started + (LISTEN_S - 2) * 1000 };
}

/** Connects to a listener and proves the token: the socket then speaks sftp with the image's sftp-server. */
export function connectSftp(l: SftpListener): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: l.address, port: l.port, noDelay: true });
    const timer = setTimeout(() => sock.destroy(new Error("the sftp listener did not answer")), 5_000);
    sock.once("error", (e) => (clearTimeout(timer), reject(e)));
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.write(`${l.token}\n`);
      resolve(sock);
    });
  });
}

/** A listener started now, and connected to. */
export async function openDirectSftp(containerId: string, address: string, tools: DirectSftpTools): Promise<net.Socket> {
  return connectSftp(await startSftpListener(containerId, address, tools));
}
