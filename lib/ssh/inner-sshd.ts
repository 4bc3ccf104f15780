import ssh2 from "ssh2";

const { utils } = ssh2;
import { generateEd25519 } from "./generate-key";
import { backend } from "../backend/backend";
import type { DirectSftpTools } from "./direct-sftp";

// The sshd that runs inside a workspace, as the workspace's own user (no root, no capabilities): started on demand
// through the backend's exec with a configuration of Gantry's own, listening only on the container's address on the
// workspace network. Nothing of this is in the image: any image with openssh-server installed works as it is.
//
// The gateway reaches it with a key pair Gantry makes per workspace and keeps in memory only (the container gets the
// public half as its one authorized key, limited with `restrict`), and pins the host key the container generated.

export const INNER_PORT = 2222;
const DIR = "/tmp/.gantry-sshd";

export class NoSshServerError extends Error {
  constructor() {
    super("This workspace's image has no SSH server (openssh-server); use the browser terminal.");
  }
}

/**
 * How the gateway reaches a workspace's sshd, and the image's python3 and sftp-server when it has both: sftp sessions
 * then go straight to sftp-server (lib/ssh/direct-sftp.ts), with no second SSH connection to encrypt.
 */
export type InnerSshd = { address: string; port: number; user: string; privateKey: string; hostKey: Buffer; directSftp: DirectSftpTools | null };

// $1: the authorized_keys line, $2: the listen address. Prints "user<TAB>host public key" on success.
const SCRIPT = `
set -e
[ -x /usr/sbin/sshd ] || exit 42
command -v ssh-keygen >/dev/null 2>&1 || exit 42
d=${DIR}
umask 077
mkdir -p "$d"
[ -s "$d/host_ed25519" ] || { rm -f "$d/host_ed25519" "$d/host_ed25519.pub"; ssh-keygen -q -t ed25519 -N '' -C gantry-workspace -f "$d/host_ed25519"; }
printf '%s\\n' "$1" > "$d/authorized_keys.new" && mv -f "$d/authorized_keys.new" "$d/authorized_keys"
cat > "$d/sshd_config" <<CONF
Port ${INNER_PORT}
ListenAddress $2
HostKey $d/host_ed25519
AuthorizedKeysFile $d/authorized_keys
PidFile $d/sshd.pid
UsePAM no
StrictModes no
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
AllowTcpForwarding local
AllowAgentForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTunnel no
GatewayPorts no
PermitUserEnvironment no
AcceptEnv LANG LC_*
PrintMotd no
ClientAliveInterval 30
MaxSessions 64
Subsystem sftp internal-sftp -d /workspace
CONF
pid=$(cat "$d/sshd.pid" 2>/dev/null || true)
if [ -z "$pid" ] || [ "$(cat /proc/$pid/comm 2>/dev/null)" != sshd ] || ! grep -q "ListenAddress $2\$" "$d/sshd_config.running" 2>/dev/null; then
  [ -n "$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = sshd ] && kill "$pid" 2>/dev/null && sleep 0.2
  cp "$d/sshd_config" "$d/sshd_config.running"
  /usr/sbin/sshd -f "$d/sshd_config.running" -E "$d/sshd.log" || { tail -n 3 "$d/sshd.log" >&2; exit 43; }
fi
sftp=
for p in /usr/lib/openssh/sftp-server /usr/libexec/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server /usr/lib/sftp-server; do
  if [ -x "$p" ]; then sftp=$p; break; fi
done
py=$(command -v python3 2>/dev/null || true)
printf '%s\\t%s\\t%s\\t%s\\n' "$(id -un)" "$(cat "$d/host_ed25519.pub")" "$sftp" "$py"
`;

type GatewayKey = { privateKey: string; authorizedLine: string };
const keys = new Map<string, GatewayKey>();
const starting = new Map<string, Promise<InnerSshd>>();

function gatewayKey(workspaceId: string): GatewayKey {
  let key = keys.get(workspaceId);
  if (!key) {
    const pair = generateEd25519();
    const pub = pair.public.trim().split(/\s+/).slice(0, 2).join(" ");
    key = { privateKey: pair.private, authorizedLine: `restrict,pty,port-forwarding ${pub} gantry-gateway` };
    keys.set(workspaceId, key);
  }
  return key;
}

/** Forgets a workspace's gateway key (it was deleted); the next session makes a new one. */
export function forgetInnerSshd(workspaceId: string): void {
  keys.delete(workspaceId);
}

async function start(workspaceId: string, ref: string): Promise<InnerSshd> {
  const seen = await backend().observe(ref);
  if (!seen?.running || !seen.address) throw new Error("the workspace is not running");
  const key = gatewayKey(workspaceId);
  const res = await backend().exec(ref, ["sh", "-c", SCRIPT, "gantry-sshd", key.authorizedLine, seen.address], { timeoutMs: 20_000 });
  if (res.exitCode === 42) throw new NoSshServerError();
  if (res.exitCode !== 0) throw new Error(`sshd did not start in the workspace (exit ${res.exitCode}): ${res.stderr.trim().split("\n").pop() ?? ""}`);
  const [user, hostLine, sftpServer, python] = res.stdout.trimEnd().split("\t");
  const parsed = utils.parseKey(hostLine ?? "");
  if (!user || parsed instanceof Error || Array.isArray(parsed)) throw new Error("sshd in the workspace gave no usable host key");
  return { address: seen.address, port: INNER_PORT, user, privateKey: key.privateKey, hostKey: parsed.getPublicSSH(), directSftp: sftpServer?.startsWith("/") && python?.startsWith("/") ? { sftpServer, python } : null };
}

/** Makes sure the workspace's sshd runs (starting it if needed); concurrent sessions share one start. */
export function ensureInnerSshd(workspaceId: string, ref: string): Promise<InnerSshd> {
  const key = `${workspaceId} ${ref}`;
  let p = starting.get(key);
  if (!p) {
    p = start(workspaceId, ref).finally(() => starting.delete(key));
    starting.set(key, p);
  }
  return p;
}
