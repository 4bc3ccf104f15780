// The port between Gantry's rules (lib/workspaces) and whatever runs workspaces. lib/docker is the one implementation
// today; a Docker Swarm backend is a new folder that implements this interface plus a line in lib/backend/backend.ts.
// Nothing here names Docker: refs are opaque, addresses are what the proxy connects to.

export type ImageInfo = {
  /** The backend's immutable id for the image (Docker: sha256:…); workspaces pin it so a reset never drifts. */
  id: string;
  /** The image's own user (USER); resolved by the backend when it creates a workspace. */
  user: string;
  env: string[];
};

export type PullProgress = { bytesDone: number; bytesTotal: number; layersDone: number; layersTotal: number; status: string };

/** Everything a backend needs to create a workspace; only values Gantry decided itself (never raw request fields). */
export type WorkspaceSpec = {
  workspaceId: string;
  userId: string;
  /** Deterministic name of the workspace's unit (container, service). */
  name: string;
  image: ImageInfo;
  /** Catalog start command template with {base_url} and {port}; null runs the image's own command. */
  commandTemplate: string | null;
  port: number;
  memoryGb: number;
  cpus: number;
  shmSizeGb: number | null;
  gpuUuids: string[];
  jupyterToken: string;
  dataPath: string | null;
};

/** What the backend sees of one workspace's unit. */
export type Observed = {
  /** The backend's id for the unit (Docker: the container id). */
  ref: string;
  running: boolean;
  oomKilled: boolean;
  exitCode: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  workspaceId: string | null;
  gpuUuids: string[];
  /** host:port-less address the unit answers on (Docker: its IP on the workspace network), null when not running. */
  address: string | null;
};

export type Capacity = { memoryBytes: number; cpus: number };

export type BackendEvent = { workspaceId: string; kind: string };

export type ExecResult = { exitCode: number; stdout: string; stderr: string };

/** An interactive process in a unit, on a terminal (a browser terminal's shell). */
export type AttachOptions = {
  cmd: string[];
  workingDir?: string;
  env?: string[];
  tty: true;
  cols: number;
  rows: number;
};

export type Attached = {
  /** The terminal's bytes: write keystrokes, read what the process prints (raw, one stream: it is a tty). */
  stream: import("node:stream").Duplex;
  resize(cols: number, rows: number): Promise<void>;
  /** The process's exit code once its stream has ended; null when the backend cannot tell. */
  exited: Promise<number | null>;
  /** Ends the session: the connection to the process is closed (which hangs up its terminal). */
  close(): void;
};

export interface WorkspaceBackend {
  readonly name: string;
  /**
   * A name for a new workspace's unit, chosen once at launch and kept with the workspace (unique). Other workspaces may
   * be able to resolve it, so it must not carry the owner, the workspace's name or its id.
   */
  unitName(): string;
  /** True when the engine answers within a couple of seconds. */
  ping(timeoutMs?: number): Promise<boolean>;
  capacity(): Promise<Capacity>;
  image(ref: string): Promise<ImageInfo | null>;
  /** Pulls an image; `signal` aborts it (a cancelled launch). Errors are ApiErrors worded for the user. */
  pull(ref: string, onProgress: (p: PullProgress) => void, signal?: AbortSignal): Promise<void>;
  /** Creates the unit (replacing a leftover of the same workspace under the same name); returns its ref. */
  create(spec: WorkspaceSpec): Promise<string>;
  start(ref: string): Promise<void>;
  /** Stops the unit, keeping it; already stopped or gone is success. */
  stop(ref: string, graceS?: number): Promise<void>;
  /** Removes the unit; already gone is success. The user's /workspace data is kept. */
  remove(ref: string): Promise<void>;
  /** The unit by ref or by name; null when it does not exist or is not Gantry's. */
  observe(refOrName: string): Promise<Observed | null>;
  /** Every unit Gantry made, running or not. */
  list(): Promise<{ ref: string; workspaceId: string | null; running: boolean }[]>;
  /** The URL the proxy forwards to for a unit observed at `address`. */
  upstreamUrl(address: string, port: number): string;
  logs(ref: string, tail: number): Promise<string>;
  /** Runs a command inside a running unit as its own (non-root) user; `stdin` is its whole input (a secret goes here, not in `cmd`). */
  exec(ref: string, cmd: string[], opts?: { timeoutMs?: number; stdin?: string }): Promise<ExecResult>;
  /**
   * Starts an interactive process on a terminal inside a running unit, always as the unit's own non-root user:
   * there is no option to choose another (the backend refuses a unit whose user is root or not numeric).
   */
  attach(ref: string, opts: AttachOptions): Promise<Attached>;
  /** Follows the engine's events for Gantry's units; `onConnect` runs on every (re)connect. Returns a stop function. */
  watch(onEvent: (e: BackendEvent) => void, onConnect: () => void): () => void;
  /** Host directories that are the backend's own internals (Docker: its socket's directory); never mounted into a workspace. */
  protectedHostPaths(): { path: string; why: string }[];
  /** Removes a user's persistent data (their /workspace volume). */
  removeUserData(userId: string): Promise<void>;
}
