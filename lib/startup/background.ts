import { refreshGpuInventory } from "../gpus/refresh-inventory";
import { watchBackend } from "../workspaces/watch-backend";
import { startHeartbeat } from "../workspaces/instance";
import { log } from "../log";

// Long-running work of the server process.
const stoppers: (() => void)[] = [];

export async function startBackgroundTasks(): Promise<void> {
  await refreshGpuInventory().catch((e) => log.warn("GPU inventory failed", { error: e }));
  stoppers.push(startHeartbeat());
  stoppers.push(watchBackend());
}

export function stopBackgroundTasks(): void {
  for (const stop of stoppers.splice(0)) stop();
}
