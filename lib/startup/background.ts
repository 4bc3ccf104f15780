import { refreshGpuInventory } from "../gpus/refresh-inventory";
import { watchBackend } from "../workspaces/watch-backend";
import { startHeartbeat } from "../workspaces/instance";
import { log } from "../log";
import { startTelemetry } from "../gpus/telemetry";
import { startIdleCuller } from "../workspaces/idle-culler";
import { recheckStoredDataPath } from "../settings/data-path";

// Long-running work of the server process.
const stoppers: (() => void)[] = [];

export async function startBackgroundTasks(): Promise<void> {
  await recheckStoredDataPath().catch((e) => log.warn("could not check the stored /data directory", { error: e }));
  await refreshGpuInventory().catch((e) => log.warn("GPU inventory failed", { error: e }));
  stoppers.push(startHeartbeat());
  stoppers.push(watchBackend());
  stoppers.push(startTelemetry());
  stoppers.push(startIdleCuller());
}

export function stopBackgroundTasks(): void {
  for (const stop of stoppers.splice(0)) stop();
}
