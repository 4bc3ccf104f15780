// Workspaces an action of this process is working on right now. The reconciler leaves them alone: the action
// writes their final status itself.
const key = Symbol.for("gantry.inflight");
type Holder = { [key]?: Set<string> };

function set(): Set<string> {
  const g = globalThis as Holder;
  g[key] ??= new Set();
  return g[key]!;
}

export function isInFlight(workspaceId: string): boolean {
  return set().has(workspaceId);
}

export async function inFlight<T>(workspaceId: string, fn: () => Promise<T>): Promise<T> {
  set().add(workspaceId);
  try {
    return await fn();
  } finally {
    set().delete(workspaceId);
  }
}

/** Marks a workspace busy until the returned function is called (for work that outlives the request). */
export function beginInFlight(workspaceId: string): () => void {
  set().add(workspaceId);
  return () => set().delete(workspaceId);
}
