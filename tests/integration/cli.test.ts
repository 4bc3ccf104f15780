import crypto from "node:crypto";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, makeMigratedDataDir, type DataDir } from "../helpers/data-dir";
import { runCli, type CliResult } from "../helpers/run-cli";

// The operator CLI against a real SQLite file. Each call is a real `node bin/gantry.mjs …` process.

let dataDir: DataDir;

beforeAll(() => {
  // Not migrated on purpose: the CLI migrates a fresh data dir itself.
  dataDir = makeDataDir("gantry-cli-");
});

afterAll(() => dataDir?.remove());

function query<T>(sql: string, ...params: unknown[]): T[] {
  const conn = new Database(dataDir.databaseFile, { readonly: true, fileMustExist: true });
  try {
    return conn.prepare(sql).all(...params) as T[];
  } finally {
    conn.close();
  }
}

/** A refused command: exit code 1, nothing on stdout, and exactly one line on stderr starting "gantry: ". */
function expectOneLineError(result: CliResult, pattern: RegExp): void {
  expect(result.code, `stdout: ${result.stdout}\nstderr: ${result.stderr}`).toBe(1);
  expect(result.stdout).toBe("");
  const lines = result.stderr.trimEnd().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^gantry: /);
  expect(lines[0]).toMatch(pattern);
}

describe("gantry CLI", () => {
  it("prints usage for help and exits 0", async () => {
    const r = await runCli(dataDir.path, ["help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("gantry user create --email E --password P");
    expect(r.stdout).toContain("gantry token create --email E");
  });

  it("works on a data dir migrated beforehand by migrateDatabase, leaving the migrations as they were", async () => {
    const migrated = makeMigratedDataDir("gantry-cli-migrated-");
    try {
      const applied = () => {
        const conn = new Database(migrated.databaseFile, { readonly: true, fileMustExist: true });
        try {
          return conn.prepare("SELECT migration_name, finished_at IS NOT NULL AS done FROM _prisma_migrations ORDER BY migration_name").all();
        } finally {
          conn.close();
        }
      };
      const before = applied();
      expect(before.length).toBeGreaterThan(0);
      expect(before).toContainEqual({ migration_name: "20261128000000_init", done: 1 });
      const r = await runCli(migrated.path, ["user", "list"]);
      expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(applied()).toEqual(before);
    } finally {
      migrated.remove();
    }
  });

  it("creates users (and an admin) that `user list` shows, with a bcrypt hash and the default quota", async () => {
    const a = await runCli(dataDir.path, ["user", "create", "--email", "Alice@Example.com", "--password", "alice-password-1", "--name", "Alice"]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/^created user alice@example\.com \(c[a-z0-9]+\)\n$/);

    const b = await runCli(dataDir.path, ["user", "create", "--email", "root@example.com", "--password", "root-password-1", "--admin"]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/^created admin root@example\.com /);

    const list = await runCli(dataDir.path, ["user", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout.trimEnd().split("\n")).toEqual([
      "alice@example.com\tuser\tactive\tAlice",
      "root@example.com\tadmin\tactive\troot",
    ]);

    const [row] = query<{ passwordHash: string; maxGpus: number; maxWorkspaces: number }>(
      `SELECT u.passwordHash, q.maxGpus, q.maxWorkspaces FROM User u JOIN Quota q ON q.userId = u.id WHERE u.email = ?`,
      "alice@example.com",
    );
    expect(row.passwordHash).toMatch(/^\$2[aby]\$11\$/);
    expect(row.passwordHash).not.toContain("alice-password-1");
    expect(row).toMatchObject({ maxGpus: 1, maxWorkspaces: 3 });
  });

  it("refuses a duplicate email with a one-line error", async () => {
    const r = await runCli(dataDir.path, ["user", "create", "--email", "alice@example.com", "--password", "another-password"]);
    expectOneLineError(r, /already exists/);
    expect(query("SELECT id FROM User WHERE email = ?", "alice@example.com")).toHaveLength(1);
  });

  it("refuses bad arguments with a one-line error and a non-zero exit", async () => {
    // Independent refusals run side by side: each is a separate process.
    const [noPassword, badEmail, shortPassword, unknownOption, unknownCommand] = await Promise.all([
      runCli(dataDir.path, ["user", "create", "--email", "bob@example.com"]),
      runCli(dataDir.path, ["user", "create", "--email", "not-an-email", "--password", "long-enough-1"]),
      runCli(dataDir.path, ["user", "create", "--email", "bob@example.com", "--password", "short"]),
      runCli(dataDir.path, ["user", "list", "--bogus"]),
      runCli(dataDir.path, ["frobnicate", "now"]),
    ]);
    expectOneLineError(noPassword, /--password is required/);
    expectOneLineError(badEmail, /email: must be an email address/);
    expectOneLineError(shortPassword, /password: Password must be at least 8 characters/);
    expectOneLineError(unknownOption, /Unknown option '--bogus'/);
    expectOneLineError(unknownCommand, /unknown command "frobnicate now"/);
    expect(query("SELECT id FROM User WHERE email IN (?, ?)", "bob@example.com", "not-an-email")).toHaveLength(0);
  });

  it("creates a token shown once, stored only as its SHA-256", async () => {
    const r = await runCli(dataDir.path, ["token", "create", "--email", "alice@example.com", "--name", "laptop"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("token for alice@example.com (shown once):");
    expect(lines[1]).toMatch(/^gnt_[A-Za-z0-9_-]{43}$/);
    const token = lines[1];
    const rows = query<{ name: string; tokenHash: string; prefix: string }>(
      "SELECT t.name, t.tokenHash, t.prefix FROM ApiToken t JOIN User u ON u.id = t.userId WHERE u.email = ?",
      "alice@example.com",
    );
    expect(rows).toEqual([
      { name: "laptop", tokenHash: crypto.createHash("sha256").update(token).digest("hex"), prefix: token.slice(0, 10) },
    ]);
  });

  it("refuses a token for an unknown user", async () => {
    expectOneLineError(await runCli(dataDir.path, ["token", "create", "--email", "nobody@example.com"]), /no user with email nobody@example\.com/);
  });

  it("disables and enables a user, refuses a token for a disabled one, and never disables the last admin", async () => {
    const d = await runCli(dataDir.path, ["user", "disable", "--email", "alice@example.com"]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout).toBe("disabled alice@example.com\n");
    expect(query<{ disabled: number }>("SELECT disabled FROM User WHERE email = ?", "alice@example.com")).toEqual([{ disabled: 1 }]);

    expectOneLineError(await runCli(dataDir.path, ["token", "create", "--email", "alice@example.com"]), /alice@example\.com is disabled/);

    const e = await runCli(dataDir.path, ["user", "enable", "--email", "alice@example.com"]);
    expect(e.code, e.stderr).toBe(0);
    expect(query<{ disabled: number }>("SELECT disabled FROM User WHERE email = ?", "alice@example.com")).toEqual([{ disabled: 0 }]);

    expectOneLineError(await runCli(dataDir.path, ["user", "disable", "--email", "root@example.com"]), /last enabled admin/);
    expect(query<{ disabled: number }>("SELECT disabled FROM User WHERE email = ?", "root@example.com")).toEqual([{ disabled: 0 }]);
  });

  it("adds pinned images to the catalog and lists them", async () => {
    const r = await runCli(dataDir.path, [
      "image", "add", "--name", "PyTorch 2.4", "--ref", "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime", "--cuda", "12.1", "--port", "8888",
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^added PyTorch 2\.4 -> pytorch\/pytorch:2\.4\.1-cuda12\.1-cudnn9-runtime \(c[a-z0-9]+\)\n$/);
    const list = await runCli(dataDir.path, ["image", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^PyTorch 2\.4\tpytorch\/pytorch:2\.4\.1-cuda12\.1-cudnn9-runtime\tc[a-z0-9]+\t\(image CMD\)\n$/);
    expect(query("SELECT name, ref, port, cudaVersion FROM Image")).toEqual([
      { name: "PyTorch 2.4", ref: "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime", port: 8888, cudaVersion: "12.1" },
    ]);
  });

  it("refuses unpinned or malformed images and bad ports with a one-line error", async () => {
    const [latest, unpinned, notANumber, tooHigh, duplicate] = await Promise.all([
      runCli(dataDir.path, ["image", "add", "--name", "x", "--ref", "pytorch/pytorch:latest"]),
      runCli(dataDir.path, ["image", "add", "--name", "x", "--ref", "pytorch/pytorch"]),
      runCli(dataDir.path, ["image", "add", "--name", "x", "--ref", "img:1", "--port", "abc"]),
      runCli(dataDir.path, ["image", "add", "--name", "x", "--ref", "img:1", "--port", "70000"]),
      runCli(dataDir.path, ["image", "add", "--name", "PyTorch 2.4", "--ref", "img:1"]),
    ]);
    expectOneLineError(latest, /ref: must not use the 'latest' tag/);
    expectOneLineError(unpinned, /ref: must be pinned/);
    expectOneLineError(notANumber, /^gantry: port: /);
    expectOneLineError(tooHigh, /^gantry: port: /);
    expectOneLineError(duplicate, /An image named "PyTorch 2\.4" is already in the catalog/);
    expect(query("SELECT name FROM Image")).toEqual([{ name: "PyTorch 2.4" }]);
  });
});
