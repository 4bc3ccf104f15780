import { defineConfig } from "@playwright/test";

// Browser tests against the real app: e2e/global-setup.ts starts `node dist/server.mjs` on a free port with a fresh
// data dir and seeds it through the CLI, then hands the URL and accounts to the specs in e2e/.auth/harness.json
// (e2e/fixtures.ts turns it into baseURL).
// Debian's Chromium is used as installed: Playwright's own browser download is never needed.
export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  outputDir: "test-results",
  globalSetup: "./e2e/global-setup.ts",
  // One worker: the specs share one server, and CI machines have two cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  use: {
    browserName: "chromium",
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    navigationTimeout: 60_000,
    actionTimeout: 15_000,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      // Without the background-networking flags Chromium keeps trying to reach the (closed) network.
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
});
