import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { startServer, startServerExpectingExit, type ExitedServer } from "../helpers/gantry-server";

// A corrupt, missing or emptied database in a data directory that was set up before: the server refuses to start
// with a message an operator can act on, leaves the file as it found it, and never creates a first admin over an
// existing installation (Portainer's first-run takeover).

const INTRUDER = { adminEmail: "intruder@evil.example", adminPassword: "intruder-password-1" };
const dirs: DataDir[] = [];
let original: DataDir;

function sha(file: string): string {
  return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** A copy of the set-up data dir (database, secret, marker), to break in one way. */
function copyOfOriginal(): DataDir {
  const dir = makeDataDir("gantry-sec-startup-");
  dirs.push(dir);
  fs.cpSync(original.path, dir.path, { recursive: true });
  return dir;
}

function expectRefusal(exit: ExitedServer, mentions: RegExp): void {
  const output = `${exit.stdout}\n${exit.stderr}`;
  expect(exit.code, output.slice(-2000)).not.toBe(0);
  const line = exit.stderr.split("\n").find((l) => l.startsWith("Gantry cannot start: "));
  expect(line, output.slice(-2000)).toBeDefined();
  expect(line!).toMatch(mentions);
  expect(line!).toMatch(/backup/i);
  // No first admin, no generated password, no listening server.
  expect(output).not.toMatch(/created the first admin|first start|password:/i);
  expect(output).not.toContain(INTRUDER.adminEmail);
  expect(output).not.toMatch(/Gantry is serving/);
}

/** If a database file exists in the dir, it holds no intruder and no user at all that was not there before. */
function expectNoIntruder(dir: DataDir): void {
  if (!fs.existsSync(dir.databaseFile) || fs.statSync(dir.databaseFile).size === 0) return;
  let conn: Database.Database | undefined;
  try {
    conn = new Database(dir.databaseFile, { readonly: true, fileMustExist: true });
    const rows = conn.prepare("SELECT email FROM User").all() as { email: string }[];
    expect(rows.map((r) => r.email)).not.toContain(INTRUDER.adminEmail);
  } catch (e) {
    // Unreadable (corrupt) is fine here: it just cannot hold a new admin.
    expect(String(e)).toMatch(/not a database|malformed|no such table|corrupt/i);
  } finally {
    conn?.close();
  }
}

beforeAll(async () => {
  original = makeDataDir("gantry-sec-startup-orig-");
  dirs.push(original);
  const server = await startServer({ dataDir: original.path, adminEmail: "admin@gantry.test", adminPassword: "admin-password-123" });
  await server.stop();
  expect(fs.existsSync(path.join(original.path, ".initialized"))).toBe(true);
  for (const suffix of ["-journal", "-wal", "-shm"]) fs.rmSync(original.databaseFile + suffix, { force: true });
}, 300_000);

afterAll(() => {
  for (const d of dirs) d.remove();
});

describe("a broken database in a data directory that was set up before", () => {
  it("garbage over the file header: refuses to start, names the file, leaves it untouched", async () => {
    const dir = copyOfOriginal();
    const fd = fs.openSync(dir.databaseFile, "r+");
    fs.writeSync(fd, crypto.randomBytes(100), 0, 100, 0);
    fs.closeSync(fd);
    const before = sha(dir.databaseFile);
    const exit = await startServerExpectingExit({ dataDir: dir.path, ...INTRUDER });
    expectRefusal(exit, /corrupt|unreadable/i);
    expect(exit.stderr).toContain(dir.databaseFile);
    expect(sha(dir.databaseFile)).toBe(before);
    expectNoIntruder(dir);
  });

  it("a valid header over a mangled schema page: refuses to start and leaves it untouched", async () => {
    const dir = copyOfOriginal();
    const fd = fs.openSync(dir.databaseFile, "r+");
    fs.writeSync(fd, crypto.randomBytes(1000), 0, 1000, 100);
    fs.closeSync(fd);
    const before = sha(dir.databaseFile);
    const exit = await startServerExpectingExit({ dataDir: dir.path, ...INTRUDER });
    expectRefusal(exit, /corrupt|unreadable|malformed/i);
    expect(sha(dir.databaseFile)).toBe(before);
    expectNoIntruder(dir);
  });

  it("the database deleted: refuses to start, creates no new database and no first admin", async () => {
    const dir = copyOfOriginal();
    fs.rmSync(dir.databaseFile);
    const exit = await startServerExpectingExit({ dataDir: dir.path, ...INTRUDER });
    expectRefusal(exit, /missing/i);
    expect(fs.existsSync(dir.databaseFile)).toBe(false);
  });

  it("the database emptied to 0 bytes (a crashed copy or restore): refuses to start, creates no first admin", async () => {
    const dir = copyOfOriginal();
    fs.truncateSync(dir.databaseFile, 0);
    const exit = await startServerExpectingExit({ dataDir: dir.path, ...INTRUDER, startTimeoutMs: 120_000 }).catch((e: Error) => e);
    // Starting up on an empty database over a set-up installation is the failure this test exists to catch.
    expect(exit instanceof Error ? exit.message.split("\n")[0] : "refused", "the server started serving on an emptied database").toBe("refused");
    expectRefusal(exit as ExitedServer, /empty|missing|corrupt|unreadable/i);
    expect(fs.statSync(dir.databaseFile).size).toBe(0);
    expectNoIntruder(dir);
  });
});
