import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { checkSecret, loadAuthSecret, SecretError } from "./secret";

const GOOD = "k3J9xQ2mW7vR5tY8pL4nB6cD1fG0hZsA"; // 32 characters

describe("checkSecret", () => {
  it.each(["", "   ", "\n\t"])("refuses an empty value %j, naming its source", (value) => {
    expect(() => checkSecret(value, "NEXTAUTH_SECRET")).toThrow(SecretError);
    expect(() => checkSecret(value, "NEXTAUTH_SECRET")).toThrow("NEXTAUTH_SECRET is empty.");
  });

  it.each(["secret", "SECRET", " changeme ", "keyboard cat", "gantry", "your-secret-here", "Development"])(
    "refuses the well-known value %j",
    (value) => {
      expect(() => checkSecret(value, "NEXTAUTH_SECRET")).toThrow("NEXTAUTH_SECRET is a well-known default value");
    },
  );

  it("refuses fewer than 32 characters and says how many there were", () => {
    expect(() => checkSecret(GOOD.slice(0, 31), "/data/nextauth-secret")).toThrow(
      "/data/nextauth-secret is too short (31 characters); use at least 32 random characters.",
    );
    // Surrounding whitespace does not count.
    expect(() => checkSecret(`  ${GOOD.slice(0, 31)}  `, "X")).toThrow("too short (31 characters)");
  });

  it("accepts 32 or more characters and returns the value trimmed", () => {
    expect(checkSecret(GOOD, "X")).toBe(GOOD);
    expect(checkSecret(`${GOOD}\n`, "X")).toBe(GOOD);
  });
});

describe("loadAuthSecret", () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-secret-unit-"));
    vi.stubEnv("GANTRY_DATA_DIR", dir);
    vi.stubEnv("NEXTAUTH_SECRET", undefined);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("generates a strong secret once, keeps it in a 0600 file, and reuses it", () => {
    const first = loadAuthSecret();
    expect(first).toMatch(/^[A-Za-z0-9_-]{64}$/);
    const file = path.join(dir, "nextauth-secret");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(loadAuthSecret()).toBe(first);
  });

  it("puts a loosened file back to 0600", () => {
    const file = path.join(dir, "nextauth-secret");
    fs.writeFileSync(file, GOOD, { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    expect(loadAuthSecret()).toBe(GOOD);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses a weak secret in the file", () => {
    fs.writeFileSync(path.join(dir, "nextauth-secret"), "changeme\n", { mode: 0o600 });
    expect(() => loadAuthSecret()).toThrow(/nextauth-secret is a well-known default value/);
  });

  it("prefers NEXTAUTH_SECRET, checks it, and then writes no file", () => {
    vi.stubEnv("NEXTAUTH_SECRET", GOOD);
    expect(loadAuthSecret()).toBe(GOOD);
    vi.stubEnv("NEXTAUTH_SECRET", "secret");
    expect(() => loadAuthSecret()).toThrow("NEXTAUTH_SECRET is a well-known default value");
    vi.stubEnv("NEXTAUTH_SECRET", "");
    expect(() => loadAuthSecret()).toThrow("NEXTAUTH_SECRET is empty");
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
