import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

// The real OpenSSH client (ssh, scp, sftp, ssh-keygen) against the gateway: no config file, only the key given, no
// prompts, and the gateway's host key pinned in a known_hosts file built from what the dashboard's API shows.

export type SshRun = { code: number | null; stdout: string; stderr: string };

export function makeKey(dir: string, name: string): string {
  const file = path.join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", file]);
  return file;
}

export class SshClient {
  constructor(
    readonly port: number,
    readonly knownHosts: string,
    readonly host = "127.0.0.1",
  ) {}

  options(key: string): string[] {
    return [
      "-F", "/dev/null",
      "-i", key,
      "-o", "IdentitiesOnly=yes",
      "-o", "BatchMode=yes",
      "-o", "StrictHostKeyChecking=yes",
      "-o", `UserKnownHostsFile=${this.knownHosts}`,
      "-o", "ConnectTimeout=30",
      // LogLevel stays at INFO: below it OpenSSH hides the server's banner, which carries the gateway's refusals.
    ];
  }

  spawnSsh(key: string, user: string, args: string[], extra: string[] = []): ChildProcess {
    return spawn("ssh", [...this.options(key), "-p", String(this.port), ...extra, `${user}@${this.host}`, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  }

  ssh(key: string, user: string, args: string[], opts: { extra?: string[]; input?: string; timeoutMs?: number } = {}): Promise<SshRun> {
    return collect(this.spawnSsh(key, user, args, opts.extra), opts.input, opts.timeoutMs);
  }

  scp(key: string, args: string[], timeoutMs?: number): Promise<SshRun> {
    return collect(spawn("scp", [...this.options(key), "-P", String(this.port), ...args], { stdio: ["pipe", "pipe", "pipe"] }), undefined, timeoutMs);
  }

  sftp(key: string, user: string, batch: string, timeoutMs?: number): Promise<SshRun> {
    return collect(spawn("sftp", [...this.options(key), "-P", String(this.port), "-b", batch, `${user}@${this.host}`], { stdio: ["pipe", "pipe", "pipe"] }), undefined, timeoutMs);
  }

  /** An sftp session that stays open while its stdin does (`-b -`: commands come from stdin). */
  spawnSftp(key: string, user: string): ChildProcess {
    return spawn("sftp", [...this.options(key), "-P", String(this.port), "-b", "-", `${user}@${this.host}`], { stdio: ["pipe", "pipe", "pipe"] });
  }

  target(user: string, file: string): string {
    return `${user}@${this.host}:${file}`;
  }
}

export function collect(child: ChildProcess, input?: string, timeoutMs = 120_000): Promise<SshRun> {
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${child.spawnargs.join(" ")} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function writeKnownHosts(file: string, line: string): void {
  fs.writeFileSync(file, line + "\n");
}
