import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";

// What e2e/global-setup.ts started, shared with the specs through a file (workers are separate processes).

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const HARNESS_FILE = path.join(E2E_DIR, ".auth", "harness.json");
export const ARTIFACTS_DIR = path.join(E2E_DIR, "artifacts");

export type Harness = {
  /** http://127.0.0.1:PORT of the server under test. */
  url: string;
  dataDir: string;
  logFile: string;
  /** The stand-in nvidia-smi's values file: "UUID, utilization %, memory used MiB, temperature C, power W" per line. */
  telemetryFile: string;
  admin: { email: string; password: string; token: string };
  /** The catalog image the specs launch (gantry/test-jupyter:1). */
  image: { id: string; name: string; ref: string };
};

export function harness(): Harness {
  return JSON.parse(fs.readFileSync(HARNESS_FILE, "utf8")) as Harness;
}

export type TestUser = { id: string; email: string; password: string; name: string };

/** A fresh user for one spec, made through the admin API (unique per run, so specs never share state by accident). */
export async function createUser(request: APIRequestContext, prefix: string, role: "user" | "admin" = "user"): Promise<TestUser> {
  const h = harness();
  const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
  const user = { email: `${prefix}-${suffix}@e2e.gantry.test`, password: `${prefix}-password-${suffix}`, name: prefix };
  const res = await request.post(`${h.url}/api/admin/users`, {
    headers: { authorization: `Bearer ${h.admin.token}` },
    data: { ...user, role },
  });
  expect(res.status(), await res.text()).toBe(201);
  const body = (await res.json()) as { id: string };
  return { ...user, id: body.id };
}

/** Signs in through the login form, as a person would, and waits for the dashboard. */
export async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/");
  await expect(page.getByRole("heading", { level: 1, name: "My workspaces" })).toBeVisible();
}

/** A screenshot (full page unless told otherwise: a modal dialog is shot as the viewport shows it) into e2e/artifacts/ (gitignored), also attached to the test's report. */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string, { fullPage = true } = {}): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage, animations: "disabled" });
  await testInfo.attach(name, { path: file, contentType: "image/png" });
  return file;
}

/** Makes the stand-in nvidia-smi report these values for a GPU from its next sample on; other GPUs keep theirs. */
export function setGpuReading(uuid: string, r: { util: number; memMb: number; tempC?: number; powerW?: number }): void {
  const file = harness().telemetryFile;
  const others = fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim() && !l.startsWith(`${uuid},`));
  fs.writeFileSync(`${file}.${process.pid}.tmp`, [...others, `${uuid}, ${r.util}, ${r.memMb}, ${r.tempC ?? 50}, ${r.powerW ?? 100}`].join("\n") + "\n");
  fs.renameSync(`${file}.${process.pid}.tmp`, file);
}
