// Long-running work of the server process: filled in by the Docker reconciler and GPU discovery.
type Stopper = () => void;
const stoppers: Stopper[] = [];

export async function startBackgroundTasks(): Promise<void> {}

export function stopBackgroundTasks(): void {
  for (const stop of stoppers.splice(0)) stop();
}
