// Workspaces an action of this process is working on right now. The reconciler leaves them alone: the action
// writes their final status itself.
// Counted, not a set: an action refused with 409 must not clear the mark of the action (or pull) still running.
const key = Symbol.for("gantry.inflight");
type Holder = { [key]?: Map<string, number> };

function counts(): Map<string, number> {
  const g = globalThis as Holder;
  g[key] ??= new Map();
  return g[key]!;
}

function add(workspaceId: string): () => void {
  counts().set(workspaceId, (counts().get(workspaceId) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const n = (counts().get(workspaceId) ?? 1) - 1;
    if (n <= 0) counts().delete(workspaceId);
    else counts().set(workspaceId, n);
  };
}

export function isInFlight(workspaceId: string): boolean {
  return counts().has(workspaceId);
}

export async function inFlight<T>(workspaceId: string, fn: () => Promise<T>): Promise<T> {
  const release = add(workspaceId);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Marks a workspace busy until the returned function is called (for work that outlives the request). */
export function beginInFlight(workspaceId: string): () => void {
  return add(workspaceId);
}
