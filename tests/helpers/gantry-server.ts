import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { makeDataDir } from "./data-dir";
import { REPO_ROOT } from "./paths";

export type ServerOptions = {
  /** GANTRY_DATA_DIR; a fresh temp dir (removed again by stop()) when omitted. */
  dataDir?: string;
  /** ADMIN_EMAIL / ADMIN_PASSWORD for the first start; null leaves the variable unset. */
  adminEmail?: string | null;
  adminPassword?: string | null;
  /** Extra environment; undefined removes a variable. Applied last. */
  env?: Record<string, string | undefined>;
  /** Where stdout and stderr go (both, interleaved, as they arrive). */
  logFile?: string;
  startTimeoutMs?: number;
  /** PORT and GANTRY_PROXY_PORT; free ports are picked when omitted (pass them to build e.g. GANTRY_PUBLIC_URL first). */
  port?: number;
  proxyPort?: number;
  /** GANTRY_SSH_PORT; a free port is picked when omitted. */
  sshPort?: number;
  /** How the server is run: the compiled server directly (default, what the tests use), or `npm start` itself. */
  command?: "server" | "npm-start";
};

export type GantryServer = {
  /** http://127.0.0.1:PORT, no trailing slash. */
  url: string;
  port: number;
  /** The workspace proxy's own port (GANTRY_PROXY_PORT). */
  proxyPort: number;
  /** The SSH gateway's port (GANTRY_SSH_PORT). */
  sshPort: number;
  /** The process that leads the server's process group (tests/helpers/supervise.mjs); the server runs under it. */
  groupPid: number;
  dataDir: string;
  logFile: string;
  stdout(): string;
  stderr(): string;
  /** SIGTERM to the whole process group, SIGKILL after a grace period; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Sends `signal` to the whole process group at once (SIGKILL simulates a crash); resolves when the group is gone. */
  kill(signal: NodeJS.Signals): Promise<void>;
};

export type ExitedServer = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; logFile: string };

// Values in the test runner's own environment that would change how the server under test behaves.
const SCRUBBED = [
  "DATABASE_URL", "NEXTAUTH_SECRET", "NEXTAUTH_URL", "GANTRY_PUBLIC_URL", "GANTRY_PROXY_URL", "GANTRY_PROXY_PORT", "GANTRY_SSH_PORT",
  "ADMIN_EMAIL", "ADMIN_PASSWORD", "PORT", "HOST", "GANTRY_DATA_DIR", "__NEXT_PRIVATE_ORIGIN",
];

const running = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

// A test runner that dies or forgets stop() must not leave servers behind.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const pid of running) killGroup(pid, "SIGKILL");
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function defaultLogFile(port: number): string {
  const dir = path.join(os.tmpdir(), "gantry-test-logs");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `server-${port}-${Date.now()}.log`);
}

function tail(text: string, lines = 40): string {
  return text.split("\n").slice(-lines).join("\n");
}

type Spawned = {
  child: ChildProcess;
  port: number;
  proxyPort: number;
  sshPort: number;
  url: string;
  dataDir: string;
  ownsDataDir: boolean;
  logFile: string;
  out: { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

async function spawnServer(opts: ServerOptions): Promise<Spawned> {
  const port = opts.port ?? (await freePort());
  let proxyPort = opts.proxyPort ?? (await freePort());
  while (proxyPort === port && opts.proxyPort === undefined) proxyPort = await freePort();
  let sshPort = opts.sshPort ?? (await freePort());
  while ((sshPort === port || sshPort === proxyPort) && opts.sshPort === undefined) sshPort = await freePort();
  const ownsDataDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? makeDataDir().path;
  const logFile = opts.logFile ?? defaultLogFile(port);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });

  const env: Record<string, string | undefined> = { ...process.env };
  for (const key of SCRUBBED) delete env[key];
  Object.assign(env, {
    NODE_ENV: "production",
    NEXT_TELEMETRY_DISABLED: "1",
    GANTRY_DATA_DIR: dataDir,
    PORT: String(port),
    GANTRY_PROXY_PORT: String(proxyPort),
    GANTRY_SSH_PORT: String(sshPort),
    HOST: "127.0.0.1",
    // The address tests reach the dashboard at; next-auth's redirects and the proxy's URLs derive from it.
    GANTRY_PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  if (opts.adminEmail !== null) env.ADMIN_EMAIL = opts.adminEmail ?? "admin@gantry.test";
  if (opts.adminPassword !== null) env.ADMIN_PASSWORD = opts.adminPassword ?? "admin-password-123";
  Object.assign(env, opts.env ?? {});
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];

  const log = fs.createWriteStream(logFile, { flags: "a" });
  log.write(`=== ${new Date().toISOString()} ${opts.command === "npm-start" ? "npm start" : "node dist/server.mjs"} (port ${port}, proxy ${proxyPort}, data ${dataDir})\n`);
  // The compiled server, as `npm start` runs it (tests/helpers/prerequisites.ts builds it before the tests).
  // detached: its own process group, so stop() reaches it; supervise.mjs ends that group if this process dies
  // without calling stop().
  const command = opts.command === "npm-start" ? ["npm", "start"] : [process.execPath, path.join(REPO_ROOT, "dist", "server.mjs")];
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "tests", "helpers", "supervise.mjs"), ...command], {
    cwd: REPO_ROOT,
    env: env as NodeJS.ProcessEnv,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  installExitHook();
  if (child.pid) running.add(child.pid);

  const out = { stdout: "", stderr: "" };
  child.stdout!.setEncoding("utf8").on("data", (s: string) => {
    out.stdout += s;
    log.write(s);
  });
  child.stderr!.setEncoding("utf8").on("data", (s: string) => {
    out.stderr += s;
    log.write(s);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      if (child.pid) running.delete(child.pid);
      log.end(`=== exited code=${code} signal=${signal}\n`);
      resolve({ code, signal });
    });
  });
  return { child, port, proxyPort, sshPort, url: `http://127.0.0.1:${port}`, dataDir, ownsDataDir, logFile, out, exited };
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Starts the server (node dist/server.mjs) on a free port and waits until GET /api/health answers 200. */
export async function startServer(opts: ServerOptions = {}): Promise<GantryServer> {
  const s = await spawnServer(opts);
  const timeoutMs = opts.startTimeoutMs ?? 90_000;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void s.exited.then((e) => (exit = e));
  const deadline = Date.now() + timeoutMs;

  const stop = async (): Promise<number | null> => {
    const pid = s.child.pid;
    if (pid && !exit) {
      killGroup(pid, "SIGTERM");
      const killer = setTimeout(() => killGroup(pid, "SIGKILL"), 10_000);
      await s.exited;
      clearTimeout(killer);
    }
    // npx may exit before its children do: wait for the whole group.
    for (let i = 0; pid && groupAlive(pid) && i < 100; i++) {
      if (i === 50) killGroup(pid, "SIGKILL");
      await new Promise((r) => setTimeout(r, 100));
    }
    if (s.ownsDataDir) fs.rmSync(s.dataDir, { recursive: true, force: true });
    return (await s.exited).code;
  };

  for (;;) {
    if (exit) {
      throw new Error(
        `Gantry server exited during start-up (code ${exit.code}, signal ${exit.signal}); log ${s.logFile}:\n${tail(s.out.stdout + s.out.stderr)}`,
      );
    }
    if (await healthy(s.url)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Gantry server did not answer /api/health within ${timeoutMs} ms; log ${s.logFile}:\n${tail(s.out.stdout + s.out.stderr)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }

  return {
    url: s.url,
    port: s.port,
    proxyPort: s.proxyPort,
    sshPort: s.sshPort,
    groupPid: s.child.pid!,
    dataDir: s.dataDir,
    logFile: s.logFile,
    stdout: () => s.out.stdout,
    stderr: () => s.out.stderr,
    stop,
    kill: async (signal) => {
      const pid = s.child.pid;
      if (!pid) return;
      killGroup(pid, signal);
      await s.exited;
      for (let i = 0; groupAlive(pid) && i < 100; i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}

/**
 * Starts the server where it is expected to refuse to start, and returns how it exited.
 * Throws if it starts serving instead (after stopping it).
 */
export async function startServerExpectingExit(opts: ServerOptions = {}): Promise<ExitedServer> {
  const s = await spawnServer(opts);
  const timeoutMs = opts.startTimeoutMs ?? 60_000;
  let done = false;
  const watcher = (async () => {
    const deadline = Date.now() + timeoutMs;
    while (!done && Date.now() < deadline) {
      if (await healthy(s.url)) return "serving" as const;
      await new Promise((r) => setTimeout(r, 250));
    }
    return done ? ("exited" as const) : ("timeout" as const);
  })();
  const outcome = await Promise.race([s.exited.then(() => "exited" as const), watcher]);
  done = true;
  if (outcome !== "exited") {
    if (s.child.pid) killGroup(s.child.pid, "SIGKILL");
    await s.exited;
    throw new Error(
      outcome === "serving"
        ? `Gantry server started serving, but it was expected to refuse to start; log ${s.logFile}:\n${tail(s.out.stdout + s.out.stderr)}`
        : `Gantry server neither served nor exited within ${timeoutMs} ms; log ${s.logFile}`,
    );
  }
  const { code, signal } = await s.exited;
  if (s.ownsDataDir) fs.rmSync(s.dataDir, { recursive: true, force: true });
  return { code, signal, stdout: s.out.stdout, stderr: s.out.stderr, logFile: s.logFile };
}
