import path from "node:path";
import type Docker from "dockerode";
import { ApiError } from "../errors";
import { log } from "../log";
import { Duplex } from "node:stream";
import type { Attached, AttachOptions, BackendEvent, ExecResult, Observed, PullProgress, WorkspaceBackend, WorkspaceSpec } from "../backend/types";
import { callDocker, dockerForStreams, dockerSocketPath, dockerStatus, pingDocker } from "./client";
import { buildContainerSpec } from "./container-spec";
import {
  containerLogs,
  createContainer,
  ensureVolume,
  ensureWorkspaceNetwork,
  hostResources,
  inspectContainer,
  listManagedContainers,
  removeContainer,
  removeVolume,
  startContainer,
  stopContainer,
  type ContainerState,
} from "./containers";
import { resolveContainerUser } from "./image-accounts";
import { inspectImage, pullImage, PullError } from "./images";
import { LABEL, MANAGED_FILTER } from "./labels";
import { nonRootUser } from "./container-user";
import { newContainerName, userVolumeName } from "./names";

// What rarely changes is asked of Docker once per process: the workspace network and each user's volume. When it
// turns out stale (someone removed the network by hand), the create that fails says so and is retried once.
const ensured = { network: false, volumes: new Set<string>() };

function toObserved(c: ContainerState): Observed {
  const date = (s: string | undefined) => (s && !s.startsWith("0001-") ? new Date(s) : null);
  return {
    ref: c.id,
    running: c.running,
    oomKilled: c.oomKilled,
    exitCode: c.exitCode,
    startedAt: date(c.startedAt),
    finishedAt: date(c.finishedAt),
    workspaceId: c.workspaceId,
    gpuUuids: c.gpuUuids,
    address: c.running ? c.ipAddress : null,
  };
}

async function prepare(spec: WorkspaceSpec): Promise<void> {
  if (!ensured.network) {
    await ensureWorkspaceNetwork();
    ensured.network = true;
  }
  const volume = userVolumeName(spec.userId);
  if (!ensured.volumes.has(volume)) {
    await ensureVolume(volume, { [LABEL.managed]: "true", [LABEL.user]: spec.userId });
    ensured.volumes.add(volume);
  }
}

function isMissingNetwork(e: unknown): boolean {
  return dockerStatus(e) === 404 && /network/i.test((e as Error).message ?? "");
}

async function createWorkspaceContainer(spec: WorkspaceSpec): Promise<string> {
  const { name, image, ...rest } = spec;
  const user = await resolveContainerUser(image.id, image.user);
  const options = buildContainerSpec({ ...rest, containerName: name, image: image.id, user });
  await prepare(spec);
  for (let attempt = 0; ; attempt++) {
    try {
      return await createContainer(options);
    } catch (e) {
      if (attempt > 0) throw e;
      if (isMissingNetwork(e)) {
        ensured.network = false;
        await prepare(spec);
        continue;
      }
      if (dockerStatus(e) === 409) {
        // A container of this name is left over (a crash between create and record): replace it only if it is ours
        // for this very workspace; anything else keeps the name and the create fails.
        const leftover = await inspectContainer(spec.name);
        if (leftover?.workspaceId === spec.workspaceId) {
          await removeContainer(leftover.id);
          continue;
        }
      }
      throw e;
    }
  }
}

/**
 * Starts a unit. Docker 20.10 accepts a create whose network is missing and fails only at the start ("network … not
 * found"): so the start, too, re-creates a network someone removed by hand, and tries once more.
 */
async function startUnit(ref: string): Promise<void> {
  try {
    await startContainer(ref);
  } catch (e) {
    if (!isMissingNetwork(e)) throw e;
    ensured.network = false;
    await ensureWorkspaceNetwork();
    ensured.network = true;
    await startContainer(ref);
  }
}

type DockerEvent = { Type?: string; Action?: string; Actor?: { Attributes?: Record<string, string> } };

function watchEvents(onEvent: (e: BackendEvent) => void, onConnect: () => void): () => void {
  let stopped = false;
  let stream: NodeJS.ReadableStream | null = null;
  const connect = async () => {
    if (stopped) return;
    try {
      stream = (await dockerForStreams().getEvents({
        filters: { type: ["container"], ...MANAGED_FILTER, event: ["start", "die", "oom", "destroy", "stop", "kill"] },
      })) as NodeJS.ReadableStream;
    } catch {
      setTimeout(connect, 2000).unref();
      return;
    }
    onConnect();
    let buffer = "";
    stream.on("data", (chunk: Buffer) => {
      buffer += chunk.toString("utf8");
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        if (!line) continue;
        try {
          const ev = JSON.parse(line) as DockerEvent;
          const workspaceId = ev.Actor?.Attributes?.[LABEL.workspace];
          if (workspaceId) onEvent({ workspaceId, kind: ev.Action ?? "" });
        } catch {
          /* a partial or foreign line: ignore */
        }
      }
    });
    const reconnect = () => {
      stream?.removeAllListeners();
      stream = null;
      // The engine may have been restarted: what was ensured before may be gone with it.
      ensured.network = false;
      ensured.volumes.clear();
      if (!stopped) setTimeout(connect, 1000).unref();
    };
    stream.on("end", reconnect);
    stream.on("error", reconnect);
  };
  void connect();
  return () => {
    stopped = true;
    (stream as unknown as { destroy?: () => void })?.destroy?.();
  };
}

async function exec(ref: string, cmd: string[], opts: { timeoutMs?: number; stdin?: string } = {}): Promise<ExecResult> {
  return callDocker(async (d) => {
    const withStdin = opts.stdin !== undefined;
    const e = await d.getContainer(ref).exec({ Cmd: cmd, AttachStdin: withStdin, AttachStdout: true, AttachStderr: true, Tty: false });
    const stream = (await e.start({ hijack: true, stdin: withStdin })) as NodeJS.ReadWriteStream;
    // The input, then end-of-file: the engine closes the process's stdin when the connection is half-closed.
    if (opts.stdin !== undefined) stream.end(opts.stdin);
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = opts.timeoutMs ? setTimeout(() => reject(new Error(`exec timed out after ${opts.timeoutMs} ms`)), opts.timeoutMs) : null;
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => (timer && clearTimeout(timer), resolve()));
      stream.on("error", (err) => (timer && clearTimeout(timer), reject(err)));
    });
    const info = (await e.inspect()) as Docker.ExecInspectInfo;
    const { stdout, stderr } = splitStreams(Buffer.concat(chunks));
    return { exitCode: info.ExitCode ?? -1, stdout, stderr };
  });
}

/**
 * An interactive exec on a tty. No User is passed: Docker then runs it as the container's Config.User, which is
 * checked first to be a numeric non-root user. The stream comes from the client without a request timeout, since
 * a terminal may sit idle for hours.
 *
 * Closing Docker's connection does not end the process (the engine keeps the tty open, and the shell lives on):
 * so the command is started by a /bin/sh that first prints its pid (then execs the command in its place), and
 * close() hangs it up with SIGHUP, as a closed terminal would; the kernel then hangs up its foreground job too.
 */
async function attach(ref: string, opts: AttachOptions): Promise<Attached> {
  return callDocker(async (d) => {
    const info = await d.getContainer(ref).inspect();
    if (info.Config.Labels?.[LABEL.managed] !== "true") throw new ApiError("not_found", "This workspace has no container.");
    if (!nonRootUser(info.Config.User)) throw new ApiError("forbidden", "This workspace's container has no non-root user; a terminal cannot be opened.");
    if (!info.State.Running) throw new ApiError("conflict", "The workspace is not running.");
    const e = await dockerForStreams().getContainer(ref).exec({
      Cmd: ["/bin/sh", "-c", 'echo "$$"; exec "$@"', "sh", ...opts.cmd],
      Env: opts.env,
      WorkingDir: opts.workingDir,
      Tty: true,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    const socket = (await e.start({ hijack: true, stdin: true, Tty: true, ConsoleSize: [opts.rows, opts.cols] } as Docker.ExecStartOptions)) as Duplex;
    let pid: string | null = null;
    let head = "";
    const stream = new Duplex({
      write: (chunk, _enc, cb) => void socket.write(chunk, cb),
      final: (cb) => (socket.end(), cb()),
      read: () => void socket.resume(),
      destroy: (err, cb) => (socket.destroy(), cb(err)),
    });
    socket.on("data", (chunk: Buffer) => {
      if (pid === null) {
        // The wrapper's first line is its pid (a tty turns its \n into \r\n); everything after is the terminal's.
        head += chunk.toString("latin1");
        const nl = head.indexOf("\n");
        if (nl < 0) {
          if (head.length > 64) pid = "";
          else return;
        } else pid = /^\s*([0-9]{1,10})\r?$/.exec(head.slice(0, nl))?.[1] ?? "";
        chunk = Buffer.from(pid ? head.slice(nl + 1) : head, "latin1");
        if (!chunk.length) return;
      }
      if (!stream.push(chunk)) socket.pause();
    });
    socket.on("end", () => stream.push(null));
    socket.on("close", () => stream.push(null));
    socket.on("error", (err) => stream.destroy(err));
    const exited = new Promise<number | null>((resolve) => {
      socket.once("close", () =>
        e
          .inspect()
          .then((i) => resolve(i.Running ? null : (i.ExitCode ?? null)))
          .catch(() => resolve(null)),
      );
    });
    const resize = async (cols: number, rows: number) => {
      await e.resize({ h: rows, w: cols });
    };
    // Older engines ignore ConsoleSize: the first resize sets the size as well.
    await resize(opts.cols, opts.rows).catch(() => {});
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      stream.destroy();
      if (!pid) return log.warn("terminal hang-up impossible: the shell's pid was never read", { ref });
      // One exec does the whole hang-up: HUP, up to 3 s for the shell to go, then KILL (the kernel then hangs up its
      // foreground job as well). It is tried again if the engine fails to run it: a shell must not outlive its socket.
      const script =
        `p=${pid}; kill -HUP "$p" 2>/dev/null || exit 0; i=0; ` +
        `while [ "$i" -lt 30 ] && kill -0 "$p" 2>/dev/null; do sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done; ` +
        `kill -KILL "$p" 2>/dev/null; true`;
      void (async () => {
        for (let attempt = 1; ; attempt++) {
          try {
            await exec(ref, ["/bin/sh", "-c", script], { timeoutMs: 15_000 });
            return;
          } catch (err) {
            if (attempt >= 3) return log.warn("terminal hang-up failed", { error: err, pid, attempts: attempt });
            await new Promise((r) => setTimeout(r, 1000 * attempt).unref());
          }
        }
      })();
    };
    return { stream, resize, exited, close };
  });
}

function splitStreams(buf: Buffer): { stdout: string; stderr: string } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    (buf[i] === 2 ? err : out).push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return { stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") };
}

export const dockerBackend: WorkspaceBackend = {
  name: "docker",
  unitName: () => newContainerName(),
  ping: (timeoutMs) => pingDocker(timeoutMs),
  capacity: () => hostResources(),
  image: (ref) => inspectImage(ref),
  async pull(ref: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal) {
    try {
      await pullImage(ref, onProgress, signal);
    } catch (e) {
      if (e instanceof PullError) throw new ApiError("conflict", e.message);
      throw e;
    }
  },
  create: createWorkspaceContainer,
  start: startUnit,
  stop: (ref, graceS) => stopContainer(ref, graceS),
  remove: (ref) => removeContainer(ref),
  async observe(refOrName) {
    const c = await inspectContainer(refOrName);
    return c ? toObserved(c) : null;
  },
  async list() {
    return (await listManagedContainers()).map((c) => ({ ref: c.id, workspaceId: c.workspaceId, running: c.state === "running" }));
  },
  upstreamUrl: (address, port) => `http://${address}:${port}`,
  logs: (ref, tail) => containerLogs(ref, tail),
  exec,
  attach,
  watch: watchEvents,
  protectedHostPaths() {
    const socket = dockerSocketPath();
    return [
      { path: "/var/lib/docker", why: "the Docker engine's data" },
      ...(socket ? [{ path: path.dirname(socket), why: "the directory of the Docker socket" }] : []),
    ];
  },
  removeUserData: (userId) => removeVolume(userVolumeName(userId)).then(() => void ensured.volumes.delete(userVolumeName(userId))),
};

