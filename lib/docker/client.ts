import Docker from "dockerode";
import type { ApiError } from "../errors";
import { engineUnavailable } from "../backend/errors";
import { config } from "../config";

// The only place that constructs a Docker client. DOCKER_HOST (unix://, tcp://) is honoured by docker-modem;
// without it, the default socket /var/run/docker.sock is used.
const key = Symbol.for("gantry.docker");
const streamKey = Symbol.for("gantry.docker.streams");
type Holder = { [key]?: Docker };

export function docker(): Docker {
  const g = globalThis as Holder;
  g[key] ??= new Docker({ timeout: config.dockerTimeoutMs });
  return g[key]!;
}

const UNREACHABLE = /ECONNREFUSED|ENOENT|EACCES|ECONNRESET|EPIPE|ETIMEDOUT|socket hang up|connect E|timeout/i;

export function isDockerUnreachable(e: unknown): boolean {
  const err = e as { code?: string; message?: string; statusCode?: number };
  if (err?.statusCode) return false;
  return UNREACHABLE.test(`${err?.code ?? ""} ${err?.message ?? ""}`);
}

/**
 * The engine's socket on this host: DOCKER_HOST when it names a unix socket, else Docker's default. Null when
 * DOCKER_HOST points at a TCP engine (there is no local socket to protect then).
 */
export function dockerSocketPath(): string | null {
  const host = process.env.DOCKER_HOST?.trim();
  if (!host) return "/var/run/docker.sock";
  if (host.startsWith("unix://")) return host.slice("unix://".length) || "/var/run/docker.sock";
  return null;
}

export function dockerStatus(e: unknown): number | undefined {
  return (e as { statusCode?: number })?.statusCode;
}

export function dockerUnavailable(): ApiError {
  return engineUnavailable();
}

/** A client whose request timeout also covers a wait Docker itself does (e.g. a stop's grace period). */
export function dockerWithExtraTime(extraMs: number): Docker {
  return new Docker({ timeout: config.dockerTimeoutMs + extraMs });
}

/** A client without a request timeout, for long-lived streams (events) that may be idle for minutes. */
export function dockerForStreams(): Docker {
  const g = globalThis as Holder & { [streamKey]?: Docker };
  g[streamKey] ??= new Docker();
  return g[streamKey]!;
}

/** Runs a Docker call, turning "engine unreachable" into a 503 ApiError. Other errors pass through. */
export async function callDocker<T>(fn: (d: Docker) => Promise<T>): Promise<T> {
  try {
    return await fn(docker());
  } catch (e) {
    if (isDockerUnreachable(e)) throw dockerUnavailable();
    throw e;
  }
}

/** True when the engine answers a ping within a couple of seconds. */
export async function pingDocker(timeoutMs = 2000): Promise<boolean> {
  try {
    await Promise.race([
      docker().ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), timeoutMs).unref()),
    ]);
    return true;
  } catch {
    return false;
  }
}
