import { EventEmitter } from "node:events";

// In-process pub/sub for server-sent events. Lives on globalThis so the custom server's background tasks and
// Next's route handlers (two module graphs, one process) share it.
//
// Every event goes to the "all" channel (the proxy, the SSH gateway, the terminal server, admins' dashboards) and, when
// it is about a user, to that user's own channel as well: with a hundred dashboards open, a publish reaches the
// streams of the one user it is about (and the admins'), not every stream so that each can throw it away.

export type WorkspaceEvent =
  | { type: "workspace"; userId: string; workspaceId: string; workspace: unknown }
  | { type: "workspace-deleted"; userId: string; workspaceId: string }
  | { type: "pull-progress"; userId: string; workspaceId: string; image: string; bytesDone: number; bytesTotal: number; layersDone: number; layersTotal: number }
  // The live readings of the GPUs a workspace holds (lib/gpus/telemetry.ts), every sampling interval.
  | { type: "gpu-telemetry"; userId: string; workspaceId: string; gpus: import("../gpus/telemetry").LiveGpu[] }
  // A user's disabled flag, role or sessions changed, or the user was deleted (the proxy's access cache drops them).
  | { type: "user-changed"; userId: string }
  // One of the user's SSH keys was removed (the SSH gateway ends sessions that used it).
  | { type: "ssh-keys-changed"; userId: string }
  // The admin settings changed (the proxy's access cache drops the admin-access setting); about no one user.
  | { type: "settings-changed"; userId?: undefined };

export type Listener = (event: WorkspaceEvent) => void;

/** Progress and readings say nothing about who may reach a workspace: access checks skip them. */
export function mayChangeAccess(event: WorkspaceEvent): boolean {
  return event.type !== "pull-progress" && event.type !== "gpu-telemetry";
}

const key = Symbol.for("gantry.bus");
type Holder = { [key]?: EventEmitter };

const ALL = "event";
// Channel names are "user:" + the id (a cuid): no id can collide with ALL.
const userChannel = (userId: string) => `user:${userId}`;

function bus(): EventEmitter {
  const g = globalThis as Holder;
  if (!g[key]) {
    g[key] = new EventEmitter();
    g[key].setMaxListeners(0);
  }
  return g[key];
}

/** Delivers the event to every listener of "all", then to the listeners of the user it is about. */
export function publish(event: WorkspaceEvent): void {
  const b = bus();
  b.emit(ALL, event);
  if (typeof event.userId === "string") b.emit(userChannel(event.userId), event);
}

/** Every event, whoever it is about. */
export function subscribe(listener: Listener): () => void {
  bus().on(ALL, listener);
  return () => bus().off(ALL, listener);
}

/** Only the events about this user (never a settings change, which is about no one). */
export function subscribeUser(userId: string, listener: Listener): () => void {
  const channel = userChannel(userId);
  bus().on(channel, listener);
  return () => bus().off(channel, listener);
}

/** How many listeners are attached, on "all" and on users' channels (for tests and the benchmark's sanity checks). */
export function listenerCounts(): { all: number; users: number } {
  const b = bus();
  let users = 0;
  for (const name of b.eventNames()) if (typeof name === "string" && name !== ALL) users += b.listenerCount(name);
  return { all: b.listenerCount(ALL), users };
}
