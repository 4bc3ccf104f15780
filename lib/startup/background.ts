import { refreshGpuInventory } from "../gpus/refresh-inventory";
import { watchDocker } from "../workspaces/watch-docker";
import { log } from "../log";

// Long-running work of the server process.
const stoppers: (() => void)[] = [];

export async function startBackgroundTasks(): Promise<void> {
  await refreshGpuInventory().catch((e) => log.warn("GPU inventory failed", { error: e }));
  stoppers.push(watchDocker());
}

export function stopBackgroundTasks(): void {
  for (const stop of stoppers.splice(0)) stop();
}
