import { EventEmitter } from "node:events";

// In-process pub/sub for server-sent events. Lives on globalThis so the custom server's background tasks and
// Next's route handlers (two module graphs, one process) share it.

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

/** Progress and readings say nothing about who may reach a workspace: access checks skip them. */
export function mayChangeAccess(event: WorkspaceEvent): boolean {
  return event.type !== "pull-progress" && event.type !== "gpu-telemetry";
}

const key = Symbol.for("gantry.bus");
type Holder = { [key]?: EventEmitter };

function bus(): EventEmitter {
  const g = globalThis as Holder;
  if (!g[key]) {
    g[key] = new EventEmitter();
    g[key].setMaxListeners(0);
  }
  return g[key];
}

export function publish(event: WorkspaceEvent): void {
  bus().emit("event", event);
}

export function subscribe(listener: (event: WorkspaceEvent) => void): () => void {
  bus().on("event", listener);
  return () => bus().off("event", listener);
}
