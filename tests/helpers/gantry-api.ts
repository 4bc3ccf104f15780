// Talking to a real Gantry server over HTTP with Bearer tokens, and looking at what it did in the real Docker engine.
import { execFileSync } from "node:child_process";
import path from "node:path";
import Docker from "dockerode";
import { expect } from "vitest";
import { login } from "./http-session";
import { REPO_ROOT } from "./paths";

export const STAND_IN_NVIDIA_SMI = path.join(REPO_ROOT, "scripts", "ci", "gpu-stand-in", "nvidia-smi");
export const BUSYBOX_IMAGE = "gantry/test-busybox:1";

export type Api = (pathname: string, init?: RequestInit & { token?: string; json?: unknown }) => Promise<Response>;

/** fetch against the server with an optional Bearer token; `json` becomes an application/json body. */
export function apiFor(baseUrl: string): Api {
  return (pathname, init = {}) => {
    const { token, json, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    let body = rest.body;
    if (json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(json);
    }
    return fetch(baseUrl + pathname, { ...rest, headers, body, redirect: "manual" });
  };
}

export type ApiErrorBody = { code: string; message: string; details?: Record<string, unknown> };

/** The one error shape, `{ error: { code, message[, details] } }`, with the expected status and code. */
export async function expectApiError(res: Response, status: number, code: string): Promise<ApiErrorBody> {
  const text = await res.text();
  let body: { error?: ApiErrorBody } | null = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Shown by the assertion below.
  }
  expect({ status: res.status, code: body?.error?.code }, `body: ${text.slice(0, 500)}`).toEqual({ status, code });
  expect(typeof body!.error!.message).toBe("string");
  return body!.error!;
}

/** The JSON body of a response that must have the given status (the body is shown when it does not). */
export async function expectJson<T = any>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, `${res.url} answered ${res.status}: ${text.slice(0, 500)}`).toBe(status);
  return (text ? JSON.parse(text) : null) as T;
}

/** Polls `fn` until it returns a truthy value, or throws after `timeoutMs` with the last value seen. */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs = 15_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What the stand-in nvidia-smi prints without GANTRY_FAKE_GPU_CSV: its fixed inventory of 4 GPUs. */
export function standInInventoryCsv(): string {
  const env = { ...process.env };
  delete env.GANTRY_FAKE_GPU_CSV;
  return execFileSync(STAND_IN_NVIDIA_SMI, ["--query-gpu=index,uuid,name,memory.total,driver_version", "--format=csv,noheader,nounits"], {
    encoding: "utf8",
    env,
  });
}

export function csvUuids(csv: string): string[] {
  return csv
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => l.split(",")[1].trim());
}

const docker = new Docker();

export function dockerClient(): Docker {
  return docker;
}

export type LabelledContainer = Docker.ContainerInfo;

/** Every container (running or not) carrying Gantry's labels for one of these users. */
export async function containersOfUsers(userIds: string[]): Promise<LabelledContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: ["gantry.managed=true"] } });
  return list.filter((c) => userIds.includes(c.Labels["gantry.user"] ?? ""));
}

export async function inspect(id: string): Promise<Docker.ContainerInspectInfo> {
  return docker.getContainer(id).inspect();
}

export type DeviceRequest = { Driver?: string; Count?: number; DeviceIDs?: string[] | null; Capabilities?: string[][] | null };

export function deviceRequests(info: Docker.ContainerInspectInfo): DeviceRequest[] {
  return ((info.HostConfig as { DeviceRequests?: DeviceRequest[] | null }).DeviceRequests ?? []) as DeviceRequest[];
}

export function envOf(info: Docker.ContainerInspectInfo): Record<string, string> {
  return Object.fromEntries((info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
}

/** GPU UUIDs of every running container of these users, one entry per container per GPU (duplicates kept). */
export async function gpuUuidsOfRunningContainers(userIds: string[]): Promise<string[]> {
  const uuids: string[] = [];
  for (const c of await containersOfUsers(userIds)) {
    const info = await inspect(c.Id).catch(() => null);
    if (!info?.State.Running) continue;
    for (const r of deviceRequests(info)) uuids.push(...(r.DeviceIDs ?? []));
  }
  return uuids;
}

/** Removes these users' containers and their /workspace volumes (Gantry keeps both on purpose). */
export async function removeUsersDockerResources(userIds: string[]): Promise<void> {
  for (const c of await containersOfUsers(userIds)) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  for (const id of userIds) {
    await docker.getVolume(`gantry-home-${id}`).remove().catch(() => {});
  }
}

/**
 * An API token for a user, made the way a user makes one: sign in, then POST /api/tokens from the dashboard's
 * origin. Much faster than `gantry token create` (no CLI process, no migration check).
 */
export async function createTokenByLogin(baseUrl: string, email: string, password: string, name = "test"): Promise<string> {
  const { ok, session } = await login(baseUrl, email, password);
  if (!ok) throw new Error(`could not sign in as ${email}`);
  const res = await session.fetch("/api/tokens", {
    method: "POST",
    headers: { "content-type": "application/json", origin: baseUrl },
    body: JSON.stringify({ name }),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /api/tokens as ${email} answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { token: string }).token;
}

/**
 * A catalog start command for the busybox test image that exits at once on SIGTERM. The image's own CMD
 * (`sleep infinity` as PID 1) ignores SIGTERM, so every `docker stop` of it waits out the whole grace period.
 */
export const QUICK_STOP_COMMAND = `sh -c "trap 'exit 0' TERM; sleep 2147483647 & wait"`;
