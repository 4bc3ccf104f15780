import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsUpToDate } from "../../lib/startup/preflight";
import { makeDataDir, makeMigratedDataDir, type DataDir } from "../helpers/data-dir";
import { REPO_ROOT } from "../helpers/paths";

// The server and the CLI skip `prisma migrate deploy` (seconds per start) when the database already has every
// committed migration. These cases decide when the skip is safe: anything unusual goes to Prisma.

const MIGRATIONS = path.join(REPO_ROOT, "prisma", "migrations");
let migrated: DataDir;
const temps: string[] = [];

function copyOfMigrations(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-migrations-"));
  temps.push(dir);
  fs.cpSync(MIGRATIONS, dir, { recursive: true });
  return dir;
}

function copyOfDatabase(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-db-copy-"));
  temps.push(dir);
  const file = path.join(dir, "gantry.db");
  fs.copyFileSync(migrated.databaseFile, file);
  return file;
}

function run(file: string, sql: string): void {
  const conn = new Database(file);
  try {
    conn.exec(sql);
  } finally {
    conn.close();
  }
}

beforeAll(() => {
  migrated = makeMigratedDataDir("gantry-migrations-check-");
});

afterAll(() => {
  migrated?.remove();
  for (const t of temps) fs.rmSync(t, { recursive: true, force: true });
});

describe("migrationsUpToDate", () => {
  it("is true for a database that Prisma migrated with the committed migrations", () => {
    expect(migrationsUpToDate(migrated.databaseFile, MIGRATIONS)).toBe(true);
  });

  it("is false without a database, for an empty file and for a database without Prisma's table", () => {
    const dir = makeDataDir("gantry-migrations-none-");
    try {
      expect(migrationsUpToDate(dir.databaseFile, MIGRATIONS)).toBe(false);
      fs.writeFileSync(dir.databaseFile, "");
      expect(migrationsUpToDate(dir.databaseFile, MIGRATIONS)).toBe(false);
      fs.rmSync(dir.databaseFile);
      run(dir.databaseFile, "CREATE TABLE t (x)");
      expect(migrationsUpToDate(dir.databaseFile, MIGRATIONS)).toBe(false);
    } finally {
      dir.remove();
    }
  });

  it("is false when a new migration was committed", () => {
    const dir = copyOfMigrations();
    fs.mkdirSync(path.join(dir, "29991231000000_next"));
    fs.writeFileSync(path.join(dir, "29991231000000_next", "migration.sql"), "CREATE TABLE later (id TEXT);\n");
    expect(migrationsUpToDate(migrated.databaseFile, dir)).toBe(false);
  });

  it("is false when an applied migration's file changed since", () => {
    const dir = copyOfMigrations();
    const first = fs.readdirSync(dir).find((n) => fs.existsSync(path.join(dir, n, "migration.sql")))!;
    fs.appendFileSync(path.join(dir, first, "migration.sql"), "\n-- edited\n");
    expect(migrationsUpToDate(migrated.databaseFile, dir)).toBe(false);
  });

  it("is false when a migration failed half-way, or the database knows one this code does not", () => {
    const failed = copyOfDatabase();
    run(failed, "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, applied_steps_count) VALUES ('x', 'y', '29991231000000_next', 0, 0)");
    expect(migrationsUpToDate(failed, MIGRATIONS)).toBe(false);

    const newer = copyOfDatabase();
    run(newer, "INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ('x', 'y', '29991231000000_next', 0, 0, 1)");
    expect(migrationsUpToDate(newer, MIGRATIONS)).toBe(false);
  });

  it("leaves a rolled-back migration to Prisma too (it is not applied)", () => {
    const rolledBack = copyOfDatabase();
    run(rolledBack, "UPDATE _prisma_migrations SET rolled_back_at = 1");
    expect(migrationsUpToDate(rolledBack, MIGRATIONS)).toBe(false);
  });
});
