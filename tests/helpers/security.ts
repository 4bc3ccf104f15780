// The security suite's harness: a real server on a fresh data dir, principals made through the real API (an admin
// signed in with ADMIN_PASSWORD, users created by the admin, tokens minted through POST /api/tokens), and a
// transcript of every answer the server gave, searched for secrets at the end of each file together with the
// server's own log. Nothing here is mocked: real HTTP, real SQLite, real Docker.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import Docker from "dockerode";
import { expect } from "vitest";
import { makeDataDir, type DataDir } from "./data-dir";
import { startServer, type GantryServer } from "./gantry-server";
import { STAND_IN_NVIDIA_SMI } from "./gantry-api";
import { CookieJar, SESSION_COOKIE } from "./http-session";
import { writeBody } from "./write-body";

export { waitFor } from "./workspaces";

export const GiB = 1024 ** 3;
export const BUSYBOX_IMAGE = "gantry/test-busybox:1";
export const JUPYTER_IMAGE = "gantry/test-jupyter:1";
export const JUPYTER_COMMAND = "python3 -m notebook --ip=0.0.0.0 --port={port} --no-browser --NotebookApp.base_url={base_url}";
/** Starting a server, signing in and seeding over a loaded 2-core machine takes a while. */
export const SETUP_TIMEOUT_MS = 300_000;

export const docker = new Docker();

export function rand(n = 4): string {
  return crypto.randomBytes(n).toString("hex");
}

export function sha256(text: string): string {
  return crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Every answer the server gave in this file: status line, headers and body, for one search for secrets at the end. */
export class Transcript {
  private readonly entries: string[] = [];

  add(what: string, text: string): void {
    this.entries.push(`--- ${what}\n${text}`);
  }

  all(): string {
    return this.entries.join("\n");
  }

  /** The first line (what was asked) of each recorded answer that contains `needle`. */
  containing(needle: string | RegExp): string[] {
    return this.entries
      .filter((e) => (typeof needle === "string" ? e.includes(needle) : needle.test(e)))
      .map((e) => e.split("\n")[0]);
  }

  get size(): number {
    return this.entries.length;
  }
}

export type Principal = {
  id: string;
  email: string;
  password: string;
  role: "admin" | "user";
  /** An API token made through POST /api/tokens, and its id. */
  token: string;
  tokenId: string;
  /** The dashboard session this principal signed in with (cookie jar). */
  jar: CookieJar;
};

export type Answer<T = any> = { status: number; text: string; body: T; headers: Headers; ms: number };

export type RequestInit2 = {
  method?: string;
  token?: string;
  /** Sends this jar's cookies (and stores what the server sets). */
  jar?: CookieJar;
  /** Raw Cookie header, sent as is (after the jar's, if both). */
  cookie?: string;
  /** Origin header; "self" is the server's own URL. Omitted when undefined. */
  origin?: string;
  json?: unknown;
  /** A raw body, sent as is (content-type application/json unless headers say otherwise). */
  body?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
  /** For text/event-stream answers: how long to read before hanging up (default 1500 ms). */
  streamMs?: number;
  timeoutMs?: number;
};

export type SecretSources = {
  /** Jupyter tokens seen in `docker inspect` of this file's containers. */
  jupyterTokens: Set<string>;
  /** API tokens in plain text: allowed once in the answer that created them, never in the server's log. */
  apiTokens: Set<string>;
  passwords: Set<string>;
};

export type SecurityEnv = {
  server: GantryServer;
  dataDir: DataDir;
  url: string;
  transcript: Transcript;
  secrets: SecretSources;
  admin: Principal;
  /** Users made by this environment (their containers and volumes are removed by cleanup()). */
  principals: Principal[];
  /** Containers made by the test itself (foreign containers); removed by cleanup(). */
  foreignContainers: string[];
  req<T = any>(path: string, init?: RequestInit2): Promise<Answer<T>>;
  login(email: string, password: string, opts?: { headers?: Record<string, string>; jar?: CookieJar }): Promise<LoginResult>;
  createUser(label: string, opts?: { role?: "admin" | "user" }): Promise<Principal>;
  newToken(p: Principal, name?: string): Promise<{ token: string; id: string }>;
  addImage(name: string, ref: string, command?: string | null): Promise<string>;
  launch(p: Principal, body: Record<string, unknown>): Promise<Answer>;
  /** docker inspect, remembering the container's Jupyter token as a secret. */
  inspect(containerId: string): Promise<Docker.ContainerInspectInfo>;
  /** Restarts the server on the same data dir (after a stop or a kill). */
  restart(opts?: { env?: Record<string, string | undefined> }): Promise<void>;
  cleanup(): Promise<void>;
};

export type LoginResult = {
  ok: boolean;
  jar: CookieJar;
  status: number;
  text: string;
  /** The session cookie's value after the attempt (null when none). */
  cookie: string | null;
  /** Where next-auth sends the browser (its error URL says why a sign-in failed). */
  url: string | null;
  /** The Set-Cookie lines of the sign-in answer. */
  setCookies: string[];
};

export type StartOptions = {
  prefix?: string;
  /** Use the stand-in nvidia-smi (4 GPUs). */
  gpus?: boolean;
  env?: Record<string, string | undefined>;
  /** The dashboard's port (a free one when omitted), e.g. to build GANTRY_PUBLIC_URL beforehand. */
  port?: number;
  /** Host reserve for workspaces; zero by default, so that a 2-core machine can run a few 0.5-CPU workspaces. */
  hostReserveZero?: boolean;
};

function envFor(opts: StartOptions): Record<string, string | undefined> {
  return {
    GANTRY_LOG: undefined,
    GANTRY_FAKE_GPU_CSV: undefined,
    GANTRY_TRUSTED_PROXIES: undefined,
    ...(opts.gpus ? { GANTRY_NVIDIA_SMI: STAND_IN_NVIDIA_SMI } : { GANTRY_NVIDIA_SMI: "/nonexistent/nvidia-smi" }),
    ...opts.env,
  };
}

/** Reads a fetch body; for an event stream, reads for a while and hangs up. */
async function readBody(res: Response, streamMs: number, controller: AbortController): Promise<string> {
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("text/event-stream") || !res.body) return res.text();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const timer = setTimeout(() => controller.abort(), streamMs);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } catch {
    // Hung up on purpose.
  } finally {
    clearTimeout(timer);
  }
  return text;
}

export async function startSecurityEnv(opts: StartOptions = {}): Promise<SecurityEnv> {
  const dataDir = makeDataDir(opts.prefix ?? "gantry-sec-");
  const adminEmail = `admin-${rand()}@gantry.test`;
  const adminPassword = `admin-pw-${rand(8)}`;
  let server = await startServer({ dataDir: dataDir.path, adminEmail, adminPassword, env: envFor(opts), port: opts.port });
  const transcript = new Transcript();
  const secrets: SecretSources = { jupyterTokens: new Set(), apiTokens: new Set(), passwords: new Set([adminPassword]) };
  const principals: Principal[] = [];
  const foreignContainers: string[] = [];
  const logs: string[] = [];

  const env = {} as SecurityEnv;

  const req = async <T = any>(path: string, init: RequestInit2 = {}): Promise<Answer<T>> => {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set("authorization", `Bearer ${init.token}`);
    const cookies = [init.jar?.header(), init.cookie].filter(Boolean).join("; ");
    if (cookies) headers.set("cookie", cookies);
    if (init.origin !== undefined) headers.set("origin", init.origin === "self" ? env.url : init.origin);
    let body: BodyInit | undefined;
    if (init.json !== undefined) body = JSON.stringify(init.json);
    else if (init.body !== undefined) body = init.body as BodyInit;
    if (body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
    const method = init.method ?? (body === undefined ? "GET" : "POST");
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), init.timeoutMs ?? 120_000);
    const t0 = Date.now();
    let res: Response;
    try {
      res = await fetch(env.url + path, {
        method,
        headers,
        body,
        redirect: "manual",
        signal: controller.signal,
        ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
      } as RequestInit);
    } finally {
      clearTimeout(timeout);
    }
    const text = await readBody(res, init.streamMs ?? 1500, controller);
    const ms = Date.now() - t0;
    init.jar?.store(res);
    const headerText = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
    transcript.add(`${method} ${path.slice(0, 200)} -> ${res.status}`, `${headerText}\n\n${text}`);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, text, body: parsed as T, headers: res.headers, ms };
  };

  const login = async (email: string, password: string, o: { headers?: Record<string, string>; jar?: CookieJar } = {}): Promise<LoginResult> => {
    const jar = o.jar ?? new CookieJar();
    const csrf = await req<{ csrfToken: string }>("/api/auth/csrf", { jar, headers: o.headers });
    if (csrf.status !== 200) throw new Error(`GET /api/auth/csrf answered ${csrf.status}: ${csrf.text.slice(0, 300)}`);
    const res = await req<{ url?: string }>("/api/auth/callback/credentials", {
      method: "POST",
      jar,
      headers: { "content-type": "application/x-www-form-urlencoded", ...o.headers },
      body: new URLSearchParams({ csrfToken: csrf.body.csrfToken, email, password, json: "true" }).toString(),
    });
    const cookie = /next-auth\.session-token=([^;]+)/.exec(jar.header())?.[1] ?? null;
    const issued = res.headers.getSetCookie().some((c) => c.startsWith(`${SESSION_COOKIE}=`) && !/=;|max-age=0/i.test(c));
    return { ok: issued && cookie !== null, jar, status: res.status, text: res.text, cookie, url: res.body?.url ?? res.headers.get("location"), setCookies: res.headers.getSetCookie() };
  };

  const newToken = async (p: Principal, name = "sec"): Promise<{ token: string; id: string }> => {
    const res = await req<{ token: string; id: string }>("/api/tokens", { jar: p.jar, origin: "self", json: { name } });
    if (res.status !== 201) throw new Error(`POST /api/tokens answered ${res.status}: ${res.text}`);
    secrets.apiTokens.add(res.body.token);
    return { token: res.body.token, id: res.body.id };
  };

  const signInPrincipal = async (id: string, email: string, password: string, role: "admin" | "user"): Promise<Principal> => {
    const session = await login(email, password);
    if (!session.ok) throw new Error(`could not sign in as ${email}: ${session.status} ${session.text.slice(0, 300)}`);
    const p: Principal = { id, email, password, role, token: "", tokenId: "", jar: session.jar };
    const t = await newToken(p);
    p.token = t.token;
    p.tokenId = t.id;
    return p;
  };

  Object.assign(env, {
    server,
    dataDir,
    url: server.url,
    transcript,
    secrets,
    principals,
    foreignContainers,
    req,
    login,
    newToken,
    async createUser(label: string, o: { role?: "admin" | "user" } = {}) {
      const email = `${label}-${rand()}@gantry.test`;
      const password = `pw-${rand(8)}`;
      secrets.passwords.add(password);
      const role = o.role ?? "user";
      const res = await req<{ id: string }>("/api/admin/users", { token: env.admin.token, json: { email, password, role, name: label } });
      if (res.status !== 201) throw new Error(`POST /api/admin/users answered ${res.status}: ${res.text}`);
      const p = await signInPrincipal(res.body.id, email, password, role);
      principals.push(p);
      return p;
    },
    async addImage(name: string, ref: string, command: string | null = null) {
      const res = await req<{ id: string }>("/api/admin/images", { token: env.admin.token, json: { name, ref, command } });
      if (res.status !== 201) throw new Error(`POST /api/admin/images answered ${res.status}: ${res.text}`);
      return res.body.id;
    },
    launch(p: Principal, body: Record<string, unknown>) {
      return req("/api/workspaces", { token: p.token, json: { gpus: 0, memoryGb: 0.5, cpus: 0.5, ...body } });
    },
    async inspect(containerId: string) {
      const info = await docker.getContainer(containerId).inspect();
      const line = (info.Config.Env ?? []).find((e) => e.startsWith("JUPYTER_TOKEN="));
      if (line && line.length > "JUPYTER_TOKEN=".length) secrets.jupyterTokens.add(line.slice("JUPYTER_TOKEN=".length));
      return info;
    },
    async restart(o: { env?: Record<string, string | undefined> } = {}) {
      logs.push(readLog(server));
      server = await startServer({ dataDir: dataDir.path, adminEmail: null, adminPassword: null, env: { ...envFor(opts), ...o.env } });
      env.server = server;
      env.url = server.url;
    },
    async cleanup() {
      await collectJupyterTokens(env);
      // The server first, so that it cannot act on what is being removed; then containers; then volumes.
      await env.server?.stop().catch(() => {});
      for (const id of foreignContainers) await docker.getContainer(id).remove({ force: true }).catch(() => {});
      await removeContainersOf(principals.map((p) => p.id).concat(env.admin ? [env.admin.id] : []));
      dataDir.remove();
    },
  });
  (env as SecurityEnv & { allLogs(): string }).allLogs = () => [...logs, readLog(env.server)].join("\n");

  // A setup that fails half-way must not leave its server running.
  try {
    const adminSession = await login(adminEmail, adminPassword);
    if (!adminSession.ok) throw new Error(`could not sign in as the first admin: ${adminSession.status} ${adminSession.text.slice(0, 300)}`);
    const admin: Principal = { id: "", email: adminEmail, password: adminPassword, role: "admin", token: "", tokenId: "", jar: adminSession.jar };
    const t = await newToken(admin, "admin");
    admin.token = t.token;
    admin.tokenId = t.id;
    const who = await req<{ id: string }>("/api/me", { token: admin.token });
    admin.id = who.body.id;
    env.admin = admin;
    if (opts.hostReserveZero !== false) {
      const res = await req("/api/admin/settings", { method: "PUT", token: admin.token, json: { hostReserve: { memoryGb: 0, cpus: 0 } } });
      if (res.status !== 200) throw new Error(`PUT /api/admin/settings answered ${res.status}: ${res.text}`);
    }
  } catch (e) {
    await server.stop().catch(() => {});
    dataDir.remove();
    throw e;
  }
  return env;
}

function readLog(server: GantryServer): string {
  try {
    return fs.readFileSync(server.logFile, "utf8");
  } catch {
    return server.stdout() + server.stderr();
  }
}

/** The server's whole log in this environment (all starts), as written to its log file(s). */
export function serverLog(env: SecurityEnv): string {
  return (env as SecurityEnv & { allLogs(): string }).allLogs();
}

/** Every container (any state) labelled as Gantry's for one of these users. */
export async function containersOfUsers(userIds: string[]): Promise<Docker.ContainerInfo[]> {
  if (!userIds.length) return [];
  const list = await docker.listContainers({ all: true, filters: { label: ["gantry.managed=true"] } });
  return list.filter((c) => userIds.includes(c.Labels["gantry.user"] ?? ""));
}

/** Containers labelled for this workspace id (Gantry's, and any put there by hand). */
export async function containersOfWorkspace(workspaceId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`gantry.workspace=${workspaceId}`] } });
}

export async function removeContainersOf(userIds: string[]): Promise<void> {
  for (const c of await containersOfUsers(userIds).catch(() => [])) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  for (const id of userIds) {
    // A volume can still be held for a moment by a container being removed: try again before giving up.
    for (let i = 0; i < 5; i++) {
      const gone = await docker
        .getVolume(`gantry-home-${id}`)
        .remove()
        .then(() => true, (e: { statusCode?: number }) => e.statusCode === 404);
      if (gone) break;
      await sleep(1000);
    }
  }
}

async function collectJupyterTokens(env: SecurityEnv): Promise<void> {
  const ids = env.principals.map((p) => p.id).concat(env.admin ? [env.admin.id] : []);
  for (const c of await containersOfUsers(ids).catch(() => [])) await env.inspect(c.Id).catch(() => null);
}

const BCRYPT = /\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}/;

/**
 * No answer and no server log line holds a Jupyter token, a bcrypt hash or the SHA-256 of an API token; the log also
 * holds no API token or password in plain text. Returns a summary of what was searched.
 */
export async function expectNoSecrets(env: SecurityEnv): Promise<{ answers: number; logBytes: number; secrets: number }> {
  await collectJupyterTokens(env);
  const answers = env.transcript.all();
  const log = serverLog(env);
  const problems: string[] = [];
  for (const t of env.secrets.jupyterTokens) {
    for (const where of env.transcript.containing(t)) problems.push(`Jupyter token in the answer to ${where}`);
    if (log.includes(t)) problems.push("Jupyter token in the server log");
  }
  for (const where of env.transcript.containing(BCRYPT)) problems.push(`bcrypt hash in the answer to ${where}`);
  if (BCRYPT.test(log)) problems.push("bcrypt hash in the server log");
  for (const t of env.secrets.apiTokens) {
    const hash = sha256(t);
    for (const where of env.transcript.containing(hash)) problems.push(`token hash in the answer to ${where}`);
    if (log.includes(hash)) problems.push("token hash in the server log");
    if (log.includes(t)) problems.push("an API token in plain text in the server log");
  }
  for (const p of env.secrets.passwords) if (log.includes(p)) problems.push("a password in plain text in the server log");
  expect(problems).toEqual([]);
  expect(env.secrets.apiTokens.size).toBeGreaterThan(0);
  return { answers: env.transcript.size, logBytes: log.length, secrets: env.secrets.jupyterTokens.size + env.secrets.apiTokens.size };
}

/** The one error shape: `{ error: { code, message[, details] } }`, with a sentence for a message. */
export function expectErrorShape(res: Answer, status: number | ((s: number) => boolean), code?: string | ((c: string) => boolean)): void {
  const what = `${res.status} ${res.text.slice(0, 400)}`;
  if (typeof status === "number") expect(res.status, what).toBe(status);
  else expect(status(res.status), what).toBe(true);
  expect(res.headers.get("content-type") ?? "", what).toMatch(/^application\/json/);
  expect(res.body && typeof res.body === "object" ? Object.keys(res.body) : null, what).toEqual(["error"]);
  expect(typeof res.body.error.code, what).toBe("string");
  expect(typeof res.body.error.message, what).toBe("string");
  expect(res.body.error.message.length, what).toBeGreaterThan(5);
  if (typeof code === "string") expect(res.body.error.code, what).toBe(code);
  else if (code) expect(code(res.body.error.code), what).toBe(true);
}

export type OpenStream = {
  status: number;
  /** Everything received so far. */
  text(): string;
  isClosed(): boolean;
  /** Resolves when the server ends the stream (or close() is called). */
  closed: Promise<void>;
  close(): void;
};

/** GET an event stream (/api/events) and keep reading it; what it received goes into the transcript when it ends. */
export async function openStream(env: SecurityEnv, path: string, creds: { token?: string; jar?: CookieJar }): Promise<OpenStream> {
  const controller = new AbortController();
  const headers = new Headers({ accept: "text/event-stream" });
  if (creds.token) headers.set("authorization", `Bearer ${creds.token}`);
  if (creds.jar) headers.set("cookie", creds.jar.header());
  const res = await fetch(env.url + path, { headers, signal: controller.signal });
  let text = "";
  let closedFlag = false;
  const closed = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      // Aborted by close().
    } finally {
      closedFlag = true;
      env.transcript.add(`GET ${path} (stream) -> ${res.status}`, text);
    }
  })();
  return { status: res.status, text: () => text, isClosed: () => closedFlag, closed, close: () => controller.abort() };
}

/**
 * A request over node:http that writes `chunks` one by one (no Content-Length unless given) and resolves with the
 * server's answer as soon as it comes, even if the server hangs up before the whole body was sent: that is how a
 * server refuses an oversized body, and fetch would only report the broken pipe.
 */
export function rawRequest(
  url: string,
  opts: { method: string; headers: Record<string, string>; chunks: Buffer[]; timeoutMs?: number; agent?: http.Agent | false },
): Promise<{ status: number; text: string; headers: http.IncomingHttpHeaders; writeError: string | null }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    let writeError: string | null = null;
    let settled = false;
    // A connection of its own unless an agent is given: a refused body can leave a connection unusable.
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method, headers: opts.headers, agent: opts.agent ?? false });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 60_000} ms`)), opts.timeoutMs ?? 60_000);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => (text += s));
      const done = () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, text, headers: res.headers, writeError });
      };
      res.on("end", done);
      res.on("close", done);
      res.on("error", done);
    });
    req.on("error", (e) => {
      writeError = (e as NodeJS.ErrnoException).code ?? e.message;
      // An error before any answer is a failure; after the answer began it is the server hanging up on the rest.
      setTimeout(() => {
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          reject(e);
        }
      }, 2000);
    });
    void writeBody(req, opts.chunks, () => settled);
  });
}

