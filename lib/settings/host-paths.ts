import path from "node:path";

// Which host directories may be bind-mounted into workspaces (read-only at /data). Pure: the caller resolves every
// path with realpath first (lib/settings/data-path.ts), so that `/run/.`, `//run`, `/var//run`, `/proc/1/root` or a
// symlink cannot pass for something else; this module only compares resolved paths, segment by segment.

/** A host directory no workspace may see, itself, inside it, or around it. */
export type ProtectedDir = { path: string; why: string };

export const SYSTEM_DIRS: readonly ProtectedDir[] = [
  { path: "/", why: "the host's root directory" },
  { path: "/proc", why: "the host's process information" },
  { path: "/sys", why: "the host's kernel interface" },
  { path: "/dev", why: "the host's devices" },
  { path: "/run", why: "the host's runtime state (sockets)" },
  { path: "/var/run", why: "the host's runtime state (sockets)" },
  { path: "/var/lib/docker", why: "the Docker engine's data" },
  { path: "/etc", why: "the host's configuration" },
  { path: "/boot", why: "the host's boot files" },
  { path: "/root", why: "the host administrator's home" },
];

/** The segments of an absolute path, after normalising (so `/a//b/.` is ["a", "b"] and `/` is []). */
export function segments(p: string): string[] {
  return path.posix.normalize(p).split("/").filter(Boolean);
}

/** True when `inner` is `outer` or lies inside it: compared by segment, so /etcetera is not inside /etc. */
export function isWithin(inner: string, outer: string): boolean {
  const a = segments(inner);
  const b = segments(outer);
  return b.length <= a.length && b.every((s, i) => a[i] === s);
}

export type Conflict = { dir: ProtectedDir; relation: "is" | "lies inside" | "contains" };

/**
 * The first protected directory that `resolved` is, lies inside, or contains; null when it is clear of all of them.
 * The root directory conflicts only with itself (every path lies inside it).
 */
export function hostPathConflict(resolved: string, protectedDirs: readonly ProtectedDir[]): Conflict | null {
  for (const dir of protectedDirs) {
    const isRoot = segments(dir.path).length === 0;
    if (isWithin(resolved, dir.path) && isWithin(dir.path, resolved)) return { dir, relation: "is" };
    if (isRoot) continue;
    if (isWithin(resolved, dir.path)) return { dir, relation: "lies inside" };
    if (isWithin(dir.path, resolved)) return { dir, relation: "contains" };
  }
  return null;
}

/** The sentence an admin reads when a directory is refused. */
export function describeConflict(given: string, resolved: string, c: Conflict): string {
  const where = given === resolved ? given : `${given} (which resolves to ${resolved})`;
  return `dataPath: ${where} ${c.relation} ${c.dir.path}, ${c.dir.why}; choose a directory that holds only the data to share.`;
}
