import crypto from "node:crypto";
import { PassThrough } from "node:stream";
import Docker from "dockerode";
import { makeDataDir, type DataDir } from "./data-dir";
import { startServer, type GantryServer, type ServerOptions } from "./gantry-server";
import { cli, createTokenWithCli } from "./run-cli";

// Shared pieces of the workspace integration tests: a real server on a fresh data dir, users and catalog images
// seeded through the real CLI, HTTP calls with Bearer tokens, and a real Docker engine to inspect (never mocked).

export const ADMIN_EMAIL = "admin@gantry.test";
export const JUPYTER_IMAGE = "gantry/test-jupyter:1";
export const BUSYBOX_IMAGE = "gantry/test-busybox:1";
/** The offline twin of images/pytorch (PyTorch, Jupyter, openssh-server, uid 1000): scripts/ci/images/pytorch. */
export const PYTORCH_IMAGE = "gantry/test-pytorch:1";
export const JUPYTER_COMMAND = "python3 -m notebook --ip=0.0.0.0 --port={port} --no-browser --NotebookApp.base_url={base_url}";
export const GiB = 1024 ** 3;
/** Starting a server and seeding it through several CLI processes is slow on a busy 2-core machine. */
export const SETUP_TIMEOUT_MS = 300_000;

/** One client for the tests' own look at the engine (DOCKER_HOST or the default socket, like Gantry). */
export const docker = new Docker();

export type ApiResult<T = any> = { status: number; text: string; body: T; headers: Headers };

export type Seeded = { email: string; id: string; token: string };

export type GantryEnv = {
  server: GantryServer;
  dataDir: DataDir;
  url: string;
  adminToken: string;
  /** Users this environment made; cleanup() removes their containers and volumes. */
  users: Seeded[];
  api<T = any>(path: string, init?: ApiInit): Promise<ApiResult<T>>;
  seedUser(name: string): Promise<Seeded>;
  addImage(opts: { name: string; ref: string; command?: string }): Promise<string>;
  /** Admin changes every security test makes (as the admin, through the API); a refusal throws. */
  setAdminAccess(on: boolean): Promise<void>;
  patchUser(id: string, json: Record<string, unknown>): Promise<void>;
  cleanup(): Promise<void>;
};

export type ApiInit = {
  token?: string;
  method?: string;
  /** Sent as JSON (content-type application/json). */
  json?: unknown;
  /** Sent as is, with content-type application/json unless headers say otherwise. */
  body?: string | Uint8Array;
  headers?: Record<string, string>;
};

export function unique(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(4).toString("hex")}`;
}

export async function callApi<T = any>(baseUrl: string, path: string, init: ApiInit = {}): Promise<ApiResult<T>> {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  let body: BodyInit | undefined;
  if (init.json !== undefined) body = JSON.stringify(init.json);
  else if (init.body !== undefined) body = init.body as BodyInit;
  if (body !== undefined && !headers.has("content-type")) headers.set("content-type", "application/json");
  const res = await fetch(baseUrl + path, { method: init.method ?? (body === undefined ? "GET" : "POST"), headers, body, redirect: "manual" });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, text, body: parsed as T, headers: res.headers };
}

/**
 * A server on a fresh data dir with the first admin, whose host reserve is set to zero so that a 2-core CI machine
 * can hold a few 0.5-CPU workspaces at once.
 */
export async function startGantry(
  opts: { prefix?: string; env?: ServerOptions["env"]; dataDir?: DataDir; port?: number; proxyPort?: number } = {},
): Promise<GantryEnv> {
  const dataDir = opts.dataDir ?? makeDataDir(opts.prefix ?? "gantry-ws-");
  const server = await startServer({ dataDir: dataDir.path, adminEmail: ADMIN_EMAIL, env: opts.env, port: opts.port, proxyPort: opts.proxyPort });
  const adminToken = await createTokenWithCli(dataDir.path, ADMIN_EMAIL, "admin");
  const env = gantryEnv(server, dataDir, adminToken, []);
  const reserve = await env.api("/api/admin/settings", { method: "PUT", token: adminToken, json: { hostReserve: { memoryGb: 0, cpus: 0 } } });
  if (reserve.status !== 200) throw new Error(`PUT /api/admin/settings answered ${reserve.status}: ${reserve.text}`);
  return env;
}

/** Wraps a running server (e.g. one started again on the same data dir) with the helpers. */
export function gantryEnv(server: GantryServer, dataDir: DataDir, adminToken: string, users: Seeded[]): GantryEnv {
  const env: GantryEnv = {
    server,
    dataDir,
    url: server.url,
    adminToken,
    users,
    api: (path, init) => callApi(server.url, path, init),
    async seedUser(name) {
      const email = `${unique(name)}@gantry.test`;
      const out = await cli(dataDir.path, ["user", "create", "--email", email, "--password", "password-" + crypto.randomBytes(8).toString("hex")]);
      const id = /\((c[a-z0-9]+)\)/.exec(out)?.[1];
      if (!id) throw new Error(`gantry user create printed no id: ${out}`);
      const token = await createTokenWithCli(dataDir.path, email);
      const user = { email, id, token };
      users.push(user);
      return user;
    },
    async addImage({ name, ref, command }) {
      const args = ["image", "add", "--name", name, "--ref", ref];
      if (command) args.push("--command", command);
      const out = await cli(dataDir.path, args);
      const id = /\(([^()\s]+)\)\s*$/.exec(out.trim())?.[1];
      if (!id) throw new Error(`gantry image add printed no id: ${out}`);
      return id;
    },
    async setAdminAccess(on) {
      await asAdmin("/api/admin/settings", "PUT", { allowAdminWorkspaceAccess: on });
    },
    async patchUser(id, json) {
      await asAdmin(`/api/admin/users/${id}`, "PATCH", json);
    },
    async cleanup() {
      await removeUserContainers(users.map((u) => u.id), { volumes: true });
    },
  };
  async function asAdmin(path: string, method: string, json: Record<string, unknown>): Promise<void> {
    const res = await env.api(path, { method, token: adminToken, json });
    if (res.status !== 200) throw new Error(`${method} ${path} answered ${res.status}: ${res.text}`);
  }
  return env;
}

/** Removes every Gantry-labelled container of these users (and, with volumes, their home volumes). */
export async function removeUserContainers(userIds: string[], opts: { volumes?: boolean } = {}): Promise<void> {
  for (const userId of userIds) {
    const list = await docker.listContainers({ all: true, filters: { label: ["gantry.managed=true", `gantry.user=${userId}`] } });
    for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    if (opts.volumes) {
      await docker
        .getVolume(`gantry-home-${userId}`)
        .remove()
        .catch(() => {});
    }
  }
}

export async function containersOf(userId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: ["gantry.managed=true", `gantry.user=${userId}`] } });
}

export async function inspect(id: string): Promise<Docker.ContainerInspectInfo | null> {
  try {
    return await docker.getContainer(id).inspect();
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return null;
    throw e;
  }
}

export async function volumeExists(name: string): Promise<boolean> {
  try {
    await docker.getVolume(name).inspect();
    return true;
  } catch (e) {
    if ((e as { statusCode?: number }).statusCode === 404) return false;
    throw e;
  }
}

export function envValue(info: Docker.ContainerInspectInfo, name: string): string | undefined {
  const line = (info.Config.Env ?? []).find((e) => e.startsWith(`${name}=`));
  return line === undefined ? undefined : line.slice(name.length + 1);
}

/** Runs a command in a container (as `user`, default the container's own) and collects its output and exit code. */
export async function exec(containerId: string, cmd: string[], user?: string): Promise<{ exitCode: number | null; stdout: string; stderr: string }> {
  const container = docker.getContainer(containerId);
  const ex = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, User: user });
  const stream = await ex.start({ hijack: true, stdin: false });
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
  err.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  const info = await ex.inspect();
  return { exitCode: info.ExitCode, stdout, stderr };
}

/** Polls `fn` until `ok` holds for its value; throws with the last value after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000, intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 1000)}${lastError ? `; last error: ${lastError}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** One event as received; `at` is Date.now() when its block was parsed (for the SSE benchmark's latency). */
export type SseEvent = { event: string; data: any; raw: string; at: number };

export type EventStream = {
  events: SseEvent[];
  /** Everything received so far, as text (for searching for secrets). */
  text(): string;
  waitFor(what: string, pred: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): void;
};

/** Opens GET /api/events with a Bearer token and collects the events; resolves once the stream said hello. */
export async function openEvents(baseUrl: string, token: string): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(`${baseUrl}/api/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`GET /api/events answered ${res.status}: ${await res.text()}`);
  const events: SseEvent[] = [];
  let all = "";
  let buffer = "";
  const waiters = new Set<() => void>();
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        all += chunk;
        buffer += chunk;
        let sep: number;
        while ((sep = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, sep);
          buffer = buffer.slice(sep + 2);
          let event = "message";
          const data: string[] = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
          }
          if (!data.length) continue;
          let parsed: unknown = data.join("\n");
          try {
            parsed = JSON.parse(parsed as string);
          } catch {
            /* keep the text */
          }
          events.push({ event, data: parsed, raw: block, at: Date.now() });
          for (const w of waiters) w();
        }
      }
    } catch {
      /* aborted */
    }
  })();
  const stream: EventStream = {
    events,
    text: () => all,
    waitFor(what, pred, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no SSE event ${what} within ${timeoutMs} ms; got: ${events.map((e) => e.event + " " + JSON.stringify(e.data).slice(0, 200)).join(" | ")}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
  await stream.waitFor("hello", (e) => e.event === "hello", 10_000);
  return stream;
}

/** An API error body: `{ error: { code, message } }` with a real sentence. */
export function isErrorBody(body: any, code: string): boolean {
  return !!body && typeof body.error === "object" && body.error.code === code && typeof body.error.message === "string" && body.error.message.length > 5;
}

/**
 * Launches a 1 GB / 0.5 CPU workspace without GPUs for the token's user and waits for Jupyter's start-up line in its
 * logs (Jupyter takes a few seconds to listen; a person would retry, a test waits). Returns the workspace.
 */
export async function launchJupyterWorkspace(g: GantryEnv, token: string, body: { name: string; imageId: string }): Promise<any> {
  const launched = await g.api("/api/workspaces", { token, json: { gpus: 0, memoryGb: 1, cpus: 0.5, ...body } });
  if (launched.status !== 201) throw new Error(`launch answered ${launched.status}: ${launched.text}`);
  await waitFor(
    "Jupyter's start-up line in the workspace's logs",
    () => g.api(`/api/workspaces/${launched.body.id}/logs`, { token }),
    (r) => r.status === 200 && /is running at|Serving notebooks/.test(r.text),
    90_000,
    500,
  );
  return launched.body;
}
