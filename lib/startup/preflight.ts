import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import Database from "better-sqlite3";
import { config } from "../config";
import { knownBackends } from "../backend/backend";
import { loadAuthSecret } from "../auth/secret";
import { hostPatternProblem } from "../proxy/workspace-origin";

export class StartupError extends Error {}

const MARKER = ".initialized";

function markerPath(): string {
  return path.join(config.dataDir, MARKER);
}

/** Refuses a database that is unreadable, and a missing one in a data directory that has been set up before. */
export function checkDatabase(): void {
  const file = config.databaseFile;
  // An emptied file is as good as a missing one: migrating it would silently start a fresh installation.
  const missing = !fs.existsSync(file) || fs.statSync(file).size === 0;
  if (missing) {
    if (fs.existsSync(markerPath())) {
      throw new StartupError(
        `The database ${file} is missing, but ${config.dataDir} was set up before. Restore it from a backup; ` +
          `Gantry will not create a fresh database (and a new first admin) over an existing installation. ` +
          `To really start over, remove ${markerPath()} as well.`,
      );
    }
    return;
  }
  let conn: Database.Database | undefined;
  try {
    conn = new Database(file, { fileMustExist: true, timeout: 5000 });
    const rows = conn.pragma("quick_check") as { quick_check: string }[];
    if (rows[0]?.quick_check !== "ok") throw new Error(rows.map((r) => r.quick_check).join("; "));
  } catch (e) {
    throw new StartupError(`The database ${file} is unreadable or corrupt (${(e as Error).message}). Restore it from a backup.`);
  } finally {
    conn?.close();
  }
}

/**
 * True when every committed migration is recorded in the database as applied, with the same checksum Prisma stores
 * (the SHA-256 of its migration.sql), and nothing else is recorded: no failed or unknown migration. Then there is
 * nothing for `prisma migrate deploy` to do, and starting it (seconds of Node start-up) can be skipped.
 */
export function migrationsUpToDate(databaseFile: string, migrationsDir = path.join(process.cwd(), "prisma", "migrations")): boolean {
  if (!fs.existsSync(databaseFile) || fs.statSync(databaseFile).size === 0) return false;
  const committed = new Map(
    fs
      .readdirSync(migrationsDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && fs.existsSync(path.join(migrationsDir, d.name, "migration.sql")))
      .map((d) => [d.name, crypto.createHash("sha256").update(fs.readFileSync(path.join(migrationsDir, d.name, "migration.sql"))).digest("hex")]),
  );
  type Row = { migration_name: string; checksum: string; finished_at: string | null; rolled_back_at: string | null };
  let rows: Row[];
  const conn = new Database(databaseFile, { readonly: true, fileMustExist: true, timeout: 5000 });
  try {
    if (!conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_prisma_migrations'").get()) return false;
    rows = conn.prepare("SELECT migration_name, checksum, finished_at, rolled_back_at FROM _prisma_migrations").all() as Row[];
  } finally {
    conn.close();
  }
  const applied = rows.filter((r) => r.rolled_back_at === null);
  if (applied.some((r) => r.finished_at === null)) return false; // a failed migration: Prisma reports it
  if (applied.length !== committed.size) return false;
  return applied.every((r) => committed.get(r.migration_name) === r.checksum);
}

/** Applies the committed migrations with Prisma's own migrate deploy (offline, through the driver adapter). */
export function migrateDatabase(): void {
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (config.databaseUrl === `file:${config.databaseFile}` && migrationsUpToDate(config.databaseFile)) {
    restrictDatabaseFiles();
    return;
  }
  const prismaBin = path.join(process.cwd(), "node_modules", ".bin", "prisma");
  const result = spawnSync(prismaBin, ["migrate", "deploy"], {
    env: { ...process.env, DATABASE_URL: config.databaseUrl },
    encoding: "utf8",
  });
  if (result.status !== 0) {
    const detail = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim().split("\n").filter(Boolean).slice(-3).join(" | ");
    throw new StartupError(`Database migration failed: ${detail || result.error?.message}`);
  }
  restrictDatabaseFiles();
}

// The database holds password hashes and workspace tokens: owner-only, like the secret beside it. The -wal and -shm
// files come and go: SQLite removes them when another process (a CLI run beside this one) closes the last connection,
// so one that is gone by the time it is reached is skipped, not an error (checking first would only narrow the race).
function restrictDatabaseFiles(): void {
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      fs.chmodSync(config.databaseFile + suffix, 0o600);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
  }
}

export function isInitialized(): boolean {
  return fs.existsSync(markerPath());
}

export function markInitialized(): void {
  if (!fs.existsSync(markerPath())) fs.writeFileSync(markerPath(), new Date().toISOString() + "\n", { mode: 0o600 });
}

/** Everything that must hold before Gantry serves a request. Throws StartupError with a message for the operator. */
export function preflight(): void {
  if (!knownBackends().includes(config.backend)) {
    throw new StartupError(`GANTRY_BACKEND=${config.backend} is not a known backend (known: ${knownBackends().join(", ")}).`);
  }
  const pattern = config.proxyHostPattern;
  const problem = pattern ? hostPatternProblem(pattern) : null;
  if (problem) throw new StartupError(problem);
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  try {
    loadAuthSecret();
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
  checkDatabase();
  migrateDatabase();
}
