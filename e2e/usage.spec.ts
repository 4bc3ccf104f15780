import fs from "node:fs";
import path from "node:path";
import type { BrowserContext, Page } from "@playwright/test";
import { csvRecords, insertIntervals, utcDay } from "../tests/helpers/usage-ledger";
import { expect, test } from "./fixtures";
import { createUser, harness, saveScreenshot, signIn, type TestUser } from "./harness";

// The usage pages in Chromium against the real app: ledger rows with known values are written into the server's
// database file for past days, and the pages must show the ledger API's numbers, in the chart (one titled bar per
// day and user or workspace, its value in data-value) and in the tables, export them as CSV, and fit a phone.

type Totals = { gpuHours: number; cpuHours: number; memoryGbHours: number };
type Part = { key: string; label: string } & Totals;
type Report = { totals: Totals; days: (Part & { parts: Part[] })[]; history: { workspaceName: string; userEmail: string }[] };

const METRICS = [["GPU-hours", "gpuHours"], ["CPU-hours", "cpuHours"], ["GB-hours", "memoryGbHours"]] as const;
const dayKey = (days: number) => utcDay(days).toISOString().slice(0, 10);
// The page range: ten to eight days ago, both included; the API's `to` is the day after.
const PAGE_QUERY = `from=${dayKey(-10)}&to=${dayKey(-8)}`;
const API_QUERY = `from=${dayKey(-10)}&to=${dayKey(-7)}`;

let alice: TestUser;
let bob: TestUser;
let realContext: BrowserContext | undefined;
let realWorkspaceId: string | undefined;

test.afterAll(async () => {
  if (realWorkspaceId) await realContext?.request.delete(`/api/workspaces/${realWorkspaceId}`, { headers: { origin: harness().url } }).catch(() => {});
  await realContext?.close();
});

test.beforeAll(async ({ request }) => {
  alice = await createUser(request, "usage-alice");
  bob = await createUser(request, "usage-bob");
  insertIntervals(path.join(harness().dataDir, "gantry.db"), [
    { userId: alice.id, userEmail: alice.email, workspaceName: "train, big", gpus: 2, memoryGb: 4, cpus: 1, startedAt: utcDay(-10, 8), endedAt: utcDay(-10, 11) },
    { userId: alice.id, userEmail: alice.email, workspaceName: "=notebook", gpus: 1, memoryGb: 8, cpus: 2, startedAt: utcDay(-9, 22), endedAt: utcDay(-8, 1) },
    { userId: bob.id, userEmail: bob.email, workspaceName: "bob-ws", gpus: 1, memoryGb: 2, cpus: 4, startedAt: utcDay(-9, 0), endedAt: utcDay(-9, 5) },
  ]);
});

async function api<T>(page: Page, url: string): Promise<T> {
  const res = await page.request.get(url);
  expect(res.status(), await res.text()).toBe(200);
  return (await res.json()) as T;
}

/** Every bar of the chart for the current measure equals the API's part for that day and group. */
async function expectBarsMatch(page: Page, report: Report, metric: (typeof METRICS)[number][1]) {
  const chart = page.locator("figure svg").first();
  await expect(chart).toBeVisible();
  let bars = 0;
  for (const d of report.days) {
    for (const p of d.parts) {
      if (p[metric] <= 0) continue;
      const bar = chart.locator(`rect[data-day="${d.key}"][data-series="${p.label}"]`);
      await expect(bar).toHaveAttribute("data-value", String(p[metric]));
      await expect(bar.locator("title")).toContainText(p[metric].toFixed(2));
      bars++;
    }
  }
  expect(await chart.locator("rect[data-value]").count()).toBe(bars);
  return bars;
}

async function expectTotals(page: Page, totals: Totals) {
  const dl = page.getByRole("definition");
  for (const [n, [, key]] of METRICS.entries()) await expect(dl.nth(n)).toHaveText(totals[key].toFixed(2));
}

async function expectDaysTable(page: Page, report: Report) {
  await page.getByText("The numbers per day, as a table").click();
  const table = page.getByRole("table", { name: "Use per UTC day" });
  for (const d of report.days) {
    const row = table.getByRole("row").filter({ has: page.getByRole("rowheader", { name: new RegExp(d.key) }) });
    await expect(row.getByRole("cell")).toHaveText(METRICS.map(([, k]) => d[k].toFixed(2)));
  }
}

async function expectFitsPhone(page: Page) {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  const svg = page.locator("figure svg").first();
  await expect(svg).toBeVisible();
  await expect(svg.locator("rect[data-value]").first()).toBeVisible();
  const box = await svg.boundingBox();
  expect(box!.width).toBeGreaterThan(250);
  expect(box!.x + box!.width).toBeLessThanOrEqual(390);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

test("a user's /usage: the chart, totals and tables show the ledger API's numbers, the CSV has the rows, a phone fits it", async ({ page }, testInfo) => {
  await signIn(page, alice.email, alice.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Usage" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Usage" })).toBeVisible();
  // The range in the URL: the form's dates and a preset link change it.
  await page.getByLabel("From", { exact: true }).fill(dayKey(-10));
  await page.getByLabel("To", { exact: true }).fill(dayKey(-8));
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL((u) => u.search === `?${PAGE_QUERY}`);

  const report = await api<Report>(page, `/api/me/usage/report?${API_QUERY}`);
  expect(report.totals).toEqual({ gpuHours: 9, cpuHours: 9, memoryGbHours: 36 });
  expect(report.history.map((h) => h.workspaceName).sort()).toEqual(["=notebook", "train, big"]);
  await expectTotals(page, report.totals);
  // Three bars: "train, big" on day -10, "=notebook" on both sides of midnight. Stacked by workspace.
  expect(await expectBarsMatch(page, report, "gpuHours")).toBe(3);
  await expect(page.locator('figure svg rect[data-series="train, big"]')).toHaveAttribute("data-value", "6");
  await page.getByRole("button", { name: "CPU-hours" }).click();
  await expect(page.getByRole("button", { name: "CPU-hours" })).toHaveAttribute("aria-pressed", "true");
  await expect(page.getByRole("button", { name: "GPU-hours" })).toHaveAttribute("aria-pressed", "false");
  await expectBarsMatch(page, report, "cpuHours");
  await expect(page.getByRole("list", { name: "Legend" })).toContainText("train, big");
  await expectDaysTable(page, report);
  const history = page.getByRole("table", { name: "Each workspace's intervals in the range" });
  await expect(history.getByRole("row")).toHaveCount(3);
  await expect(history.getByRole("row").filter({ hasText: "train, big" }).getByRole("cell").last()).toHaveText("6.00");
  await expect(page.getByText(bob.email)).toHaveCount(0);
  await expect(page.getByText("bob-ws")).toHaveCount(0);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  expect(download.suggestedFilename()).toBe(`gantry-usage-${dayKey(-10)}-to-${dayKey(-7)}.csv`);
  const rows = csvRecords(fs.readFileSync((await download.path())!, "utf8"));
  expect(rows.map((r) => [r.workspace, r.user_email, r.gpu_hours]).sort()).toEqual([["'=notebook", alice.email, "3"], ["train, big", alice.email, "6"]]);

  await saveScreenshot(page, testInfo, "usage");
  await expectFitsPhone(page);
  await saveScreenshot(page, testInfo, "usage-phone");
});

test("an admin's /admin/usage: days stacked by user, top users, the ledger's numbers, a phone fits it", async ({ page }, testInfo) => {
  await signIn(page, harness().admin.email, harness().admin.password);
  await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "All usage" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Usage" })).toBeVisible();
  await page.goto(`/admin/usage?${PAGE_QUERY}`);

  const report = await api<Report & { users: Part[]; topUsers: { rows: Part[] } }>(page, `/api/admin/usage/report?${API_QUERY}`);
  await expectTotals(page, report.totals);
  const aliceDay = report.days.find((d) => d.key === dayKey(-9))!;
  // Stacked in the range's order (Alice has 9 GPU-hours in it, Bob 5), the same on every day.
  expect(aliceDay.parts.map((p) => [p.label, p.gpuHours])).toEqual([[alice.email, 2], [bob.email, 5]]);
  await expectBarsMatch(page, report, "gpuHours");
  await expect(page.locator(`figure svg rect[data-day="${dayKey(-9)}"][data-series="${bob.email}"]`)).toHaveAttribute("data-value", "5");
  await page.getByRole("button", { name: "GB-hours" }).click();
  await expectBarsMatch(page, report, "memoryGbHours");
  await expectDaysTable(page, report);

  const users = page.getByRole("table", { name: "Use per user in the range, most GPU-hours first" });
  for (const u of report.users) {
    await expect(users.getByRole("row").filter({ has: page.getByRole("rowheader", { name: u.label, exact: true }) }).getByRole("cell")).toHaveText(METRICS.map(([, k]) => u[k].toFixed(2)));
  }
  const top = page.getByRole("table", { name: "Top users of the last 7 days, most GPU-hours first" });
  await expect(top.getByRole("rowheader")).toHaveText(report.topUsers.rows.map((r) => r.label));
  const history = page.getByRole("table", { name: "Each workspace's intervals in the range" });
  await expect(history.getByRole("row").filter({ hasText: "bob-ws" })).toContainText(bob.email);

  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "Download CSV" }).click()]);
  const rows = csvRecords(fs.readFileSync((await download.path())!, "utf8"));
  expect(rows.filter((r) => [alice.id, bob.id].includes(r.user_id)).map((r) => r.workspace).sort()).toEqual(["'=notebook", "bob-ws", "train, big"]);

  await saveScreenshot(page, testInfo, "admin-usage");
  await expectFitsPhone(page);
  await saveScreenshot(page, testInfo, "admin-usage-phone");
});

test("a regular user cannot reach /admin/usage (403) nor everyone's API; a bad range in the URL is explained, not an error", async ({ page }) => {
  await signIn(page, bob.email, bob.password);
  const res = await page.goto("/admin/usage");
  expect(res?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1, name: "403 — Forbidden" })).toBeVisible();
  expect((await page.request.get(`/api/admin/usage/report?${API_QUERY}`)).status()).toBe(403);
  expect((await page.request.get(`/api/admin/usage.csv?${API_QUERY}`)).status()).toBe(403);

  const bad = await page.goto(`/usage?from=${dayKey(-1)}&to=${dayKey(-5)}`);
  expect(bad?.status()).toBe(200);
  await expect(page.getByRole("alert").filter({ hasText: "That range was not shown" })).toContainText("must be before to");
  expect((await page.request.get(`/api/me/usage/report?from=${dayKey(-1)}&to=${dayKey(-5)}`)).status()).toBe(422);
});

/** The text of every script the page loaded. */
async function loadedScripts(page: Page): Promise<string[]> {
  const urls = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name).filter((u) => u.endsWith(".js")));
  return Promise.all(urls.map(async (u) => (await page.request.get(u)).text()));
}

test("recharts is lazy: pages without a chart never load it, /usage loads it after the page", async ({ page }) => {
  await signIn(page, alice.email, alice.password);
  for (const path of ["/", "/settings"]) {
    await page.goto(path);
    await page.waitForLoadState("networkidle");
    const scripts = await loadedScripts(page);
    expect(scripts.length, path).toBeGreaterThan(0);
    expect(scripts.filter((s) => s.includes("recharts-wrapper")), path).toEqual([]);
  }
  await page.goto(`/usage?${PAGE_QUERY}`);
  await expect(page.locator("figure svg rect[data-value]").first()).toBeVisible();
  expect((await loadedScripts(page)).filter((s) => s.includes("recharts-wrapper")).length).toBeGreaterThan(0);
});

test("a real launch and stop on the engine: its interval is in the history and its bar carries the ledger's value", async ({ browser, baseURL, request }) => {
  test.setTimeout(180_000);
  const carol = await createUser(request, "usage-carol");
  realContext = await browser.newContext({ baseURL });
  const page = await realContext.newPage();
  await signIn(page, carol.email, carol.password);
  const launched = await realContext.request.post("/api/workspaces", {
    headers: { origin: harness().url },
    data: { name: "e2e-usage-real", imageId: harness().image.id, gpus: 0, memoryGb: 1, cpus: 0.5 },
  });
  expect(launched.status(), await launched.text()).toBe(201);
  realWorkspaceId = ((await launched.json()) as { id: string }).id;
  const status = async () => ((await (await realContext!.request.get(`/api/workspaces/${realWorkspaceId}`)).json()) as { status: string }).status;
  await expect.poll(status, { timeout: 90_000 }).toBe("running");
  const stopped = await realContext.request.post(`/api/workspaces/${realWorkspaceId}/stop`, { headers: { origin: harness().url } });
  expect(stopped.status(), await stopped.text()).toBe(200);
  await expect.poll(status, { timeout: 60_000 }).toBe("stopped");

  // The default range: the last 7 days, today included.
  await page.goto("/usage");
  const report = await api<Report>(page, `/api/me/usage/report?from=${dayKey(-6)}&to=${dayKey(1)}`);
  expect(report.history).toEqual([expect.objectContaining({ workspaceName: "e2e-usage-real", endReason: "stopped", cpus: 0.5, memoryGb: 1, gpus: 0 })]);
  expect(report.totals.cpuHours).toBeGreaterThan(0);
  await expectTotals(page, report.totals);
  const history = page.getByRole("table", { name: "Each workspace's intervals in the range" });
  await expect(history.getByRole("row").filter({ hasText: "e2e-usage-real" })).toContainText("stopped");
  await page.getByRole("button", { name: "CPU-hours" }).click();
  expect(await expectBarsMatch(page, report, "cpuHours")).toBe(1);
  await expect(page.locator(`figure svg rect[data-day="${dayKey(0)}"][data-series="e2e-usage-real"]`)).toHaveAttribute("data-value", String(report.totals.cpuHours));
});
