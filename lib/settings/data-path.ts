import fs from "node:fs";
import path from "node:path";
import { config } from "../config";
import { ApiError } from "../errors";
import { backend } from "../backend/backend";
import { log } from "../log";
import { getSettings } from "./settings";
import { describeConflict, hostPathConflict, SYSTEM_DIRS, type ProtectedDir } from "./host-paths";

// The admin's /data directory, resolved on the host before anything is decided about it (lib/settings/host-paths.ts
// decides). Checked when it is saved, again at start-up, and again each time a container is made with it: a
// directory that passed once can later be replaced by a symlink to /run.

export type DataPathCheck = { ok: true; path: string } | { ok: false; problem: string };

async function realpathOrSelf(p: string): Promise<string> {
  return fs.promises.realpath(p).catch(() => path.resolve(p));
}

/** Every protected directory, as written and as resolved on this host (/var/run is often a symlink to /run). */
async function protectedDirs(): Promise<ProtectedDir[]> {
  const given: ProtectedDir[] = [
    ...SYSTEM_DIRS,
    ...backend().protectedHostPaths(),
    { path: config.dataDir, why: "Gantry's own data directory (its database and secrets)" },
  ];
  const resolved = await Promise.all(given.map(async (d) => ({ ...d, path: await realpathOrSelf(d.path) })));
  const seen = new Set<string>();
  return [...given, ...resolved].filter((d) => !seen.has(d.path) && seen.add(d.path));
}

const UNREADABLE: Record<string, string> = {
  ENOENT: "does not exist on the host",
  ENOTDIR: "does not exist on the host",
  EACCES: "cannot be resolved by Gantry (permission denied)",
  ELOOP: "is a loop of symbolic links",
};

export async function checkDataPath(given: string): Promise<DataPathCheck> {
  let resolved: string;
  try {
    resolved = await fs.promises.realpath(given);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "";
    return { ok: false, problem: `dataPath: ${given} ${UNREADABLE[code] ?? "cannot be resolved on the host"}; give an existing directory.` };
  }
  const stat = await fs.promises.stat(resolved).catch(() => null);
  if (!stat?.isDirectory()) {
    const where = given === resolved ? given : `${given} (which resolves to ${resolved})`;
    return { ok: false, problem: `dataPath: ${where} is not a directory; give an existing directory.` };
  }
  const conflict = hostPathConflict(resolved, await protectedDirs());
  if (conflict) return { ok: false, problem: describeConflict(given, resolved, conflict) };
  return { ok: true, path: resolved };
}

/** For saving: the resolved directory, or a 422 that says why it is refused. */
export async function requireDataPath(given: string): Promise<string> {
  const check = await checkDataPath(given);
  if (!check.ok) throw new ApiError("validation_failed", check.problem, { fields: ["dataPath"] });
  return check.path;
}

/**
 * For mounting: the stored directory re-resolved, or null (nothing mounted at /data) with an error in the log when it
 * no longer passes. Workspaces still start: one bad setting must not stop every user's work, and a mount that is
 * missing is safe where a mount of /run is not.
 */
export async function usableDataPath(stored: string | null): Promise<string | null> {
  if (!stored) return null;
  const check = await checkDataPath(stored);
  if (check.ok) return check.path;
  log.error("the /data directory in the settings is refused; workspaces get no /data until an admin sets dataPath again", {
    dataPath: stored,
    problem: check.problem,
  });
  return null;
}

/**
 * Start-up's look at the stored dataPath (saved before this check existed, or its directory replaced since). A careful
 * operator wants the dashboard up rather than down over one setting that an admin fixes in that very dashboard, and a
 * directory on a network mount that is not mounted yet at boot must not stop Gantry either: so start-up does not
 * refuse, it says so loudly, and nothing is mounted at /data (usableDataPath, at every create) until the directory
 * passes again or an admin sets another. The stored value is kept, so a mount that comes back needs no one.
 */
export async function recheckStoredDataPath(): Promise<void> {
  const { dataPath } = await getSettings();
  if (!dataPath) return;
  const check = await checkDataPath(dataPath);
  if (check.ok) return;
  log.error("the stored /data directory is refused at start-up; workspaces get no /data until an admin sets dataPath again", {
    dataPath,
    problem: check.problem,
  });
}
