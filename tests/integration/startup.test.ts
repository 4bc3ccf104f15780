import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeDataDir, type DataDir } from "../helpers/data-dir";
import { startServer, startServerExpectingExit, type ExitedServer } from "../helpers/gantry-server";
import { login } from "../helpers/http-session";

// Start-up checks of the real server process: weak secrets, a lost or corrupt database, and the first admin.

const dirs: DataDir[] = [];
function freshDir(prefix: string): DataDir {
  const d = makeDataDir(prefix);
  dirs.push(d);
  return d;
}

afterAll(() => {
  for (const d of dirs) d.remove();
});

function expectRefusal(exit: ExitedServer, message: RegExp): void {
  expect(exit.code, `stdout: ${exit.stdout}\nstderr: ${exit.stderr}`).toBe(1);
  const refusal = exit.stderr.split("\n").find((l) => l.startsWith("Gantry cannot start: "));
  expect(refusal, exit.stderr).toBeDefined();
  expect(refusal).toMatch(message);
  expect(exit.stdout).not.toContain("Gantry is serving");
}

describe("NEXTAUTH_SECRET", () => {
  it.each([
    ["a well-known default", "secret", /NEXTAUTH_SECRET is a well-known default value/],
    ["a well-known default in another case", "  ChangeMe  ", /NEXTAUTH_SECRET is a well-known default value/],
    ["empty", "", /NEXTAUTH_SECRET is empty/],
    ["only spaces", "   ", /NEXTAUTH_SECRET is empty/],
    ["too short", "x7Gq2LmZ9vR4tY8w", /NEXTAUTH_SECRET is too short \(16 characters\)/],
  ])("refuses to start when it is %s, before touching the data dir", async (_name, secret, message) => {
    const dir = freshDir("gantry-secret-");
    const exit = await startServerExpectingExit({ dataDir: dir.path, env: { NEXTAUTH_SECRET: secret } });
    expectRefusal(exit, message);
    expect(fs.readdirSync(dir.path)).toEqual([]);
  });
});

describe("GANTRY_PROXY_HOST_PATTERN", () => {
  it.each(["*.ws.example.com", "ws.example.com", "https://{id}.ws.example.com"])("refuses to start with %s, before touching the data dir", async (pattern) => {
    const dir = freshDir("gantry-host-pattern-");
    const exit = await startServerExpectingExit({ dataDir: dir.path, env: { GANTRY_PROXY_HOST_PATTERN: pattern } });
    expectRefusal(exit, /GANTRY_PROXY_HOST_PATTERN must be "\{id\}" followed by a domain, e\.g\. "\{id\}\.ws\.gantry\.example\.com"/);
    expect(fs.readdirSync(dir.path)).toEqual([]);
  });
});

describe("first start, restart, and a lost or corrupt database", () => {
  let dir: DataDir;
  let password: string;

  beforeAll(() => {
    dir = freshDir("gantry-first-");
  });

  it("without ADMIN_PASSWORD prints a generated password once on stdout, and it works", async () => {
    const server = await startServer({ dataDir: dir.path, adminEmail: null, adminPassword: null });
    try {
      const matches = [...server.stdout().matchAll(/^ {3}password: (\S+)$/gm)];
      expect(matches).toHaveLength(1);
      password = matches[0][1];
      expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      expect(server.stdout()).toMatch(/^ {3}email: {4}admin@gantry\.local$/m);
      expect(server.stderr()).not.toContain(password);

      const { ok, session } = await login(server.url, "admin@gantry.local", password);
      expect(ok).toBe(true);
      const me = await session.fetch("/api/me");
      expect(await me.json()).toMatchObject({ email: "admin@gantry.local", role: "admin" });
      expect((await login(server.url, "admin@gantry.local", password + "x")).ok).toBe(false);
    } finally {
      await server.stop();
    }
    expect(fs.existsSync(path.join(dir.path, ".initialized"))).toBe(true);
  });

  it("on restart prints no password, keeps the admin, and puts the secret file back to 0600", async () => {
    const secretFile = path.join(dir.path, "nextauth-secret");
    const secret = fs.readFileSync(secretFile, "utf8");
    fs.chmodSync(secretFile, 0o644);
    const server = await startServer({ dataDir: dir.path, adminEmail: null, adminPassword: null });
    try {
      expect(server.stdout()).not.toContain(password);
      expect(server.stdout()).not.toMatch(/password:/);
      expect(fs.statSync(secretFile).mode & 0o777).toBe(0o600);
      expect(fs.readFileSync(secretFile, "utf8")).toBe(secret);
      expect((await login(server.url, "admin@gantry.local", password)).ok).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it("refuses to start on a corrupt gantry.db and leaves the file alone", async () => {
    const copy = freshDir("gantry-corrupt-");
    fs.cpSync(dir.path, copy.path, { recursive: true });
    const garbage = Buffer.alloc(64 * 1024, "this is not an SQLite database; ");
    fs.writeFileSync(copy.databaseFile, garbage);
    const exit = await startServerExpectingExit({ dataDir: copy.path });
    expectRefusal(exit, /The database .*gantry\.db is unreadable or corrupt .* Restore it from a backup/);
    expect(fs.readFileSync(copy.databaseFile).equals(garbage)).toBe(true);
  });

  it("refuses to start when gantry.db was deleted after the first start, and creates no new admin", async () => {
    for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(dir.databaseFile + suffix, { force: true });
    const exit = await startServerExpectingExit({ dataDir: dir.path, adminEmail: "intruder@example.com", adminPassword: "intruder-pass-1" });
    expectRefusal(exit, /The database .*gantry\.db is missing, but .* was set up before/);
    expect(exit.stdout).not.toMatch(/created the first admin|password:/);
    expect(fs.existsSync(dir.databaseFile)).toBe(false);
  });
});
