import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrateDatabase } from "../../lib/startup/preflight";
import { REPO_ROOT } from "./paths";

export type DataDir = {
  /** Absolute path; pass it to the server or CLI as GANTRY_DATA_DIR. */
  path: string;
  /** The SQLite file inside it. */
  databaseFile: string;
  remove(): void;
};

/** A fresh, empty GANTRY_DATA_DIR under the system temp directory (mode 0700, like Gantry makes its own). */
export function makeDataDir(prefix = "gantry-test-"): DataDir {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o700);
  return {
    path: dir,
    databaseFile: path.join(dir, "gantry.db"),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A fresh data dir with the committed migrations applied, through the same migrateDatabase() the server uses.
 * That function reads its paths from the environment, so GANTRY_DATA_DIR is set only for the duration of the call.
 */
export function makeMigratedDataDir(prefix?: string): DataDir {
  const dataDir = makeDataDir(prefix);
  const saved = { dir: process.env.GANTRY_DATA_DIR, url: process.env.DATABASE_URL, cwd: process.cwd() };
  process.env.GANTRY_DATA_DIR = dataDir.path;
  delete process.env.DATABASE_URL;
  try {
    // migrateDatabase runs node_modules/.bin/prisma relative to the working directory.
    if (saved.cwd !== REPO_ROOT) process.chdir(REPO_ROOT);
    migrateDatabase();
  } finally {
    if (process.cwd() !== saved.cwd) process.chdir(saved.cwd);
    restore("GANTRY_DATA_DIR", saved.dir);
    restore("DATABASE_URL", saved.url);
  }
  return dataDir;
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
