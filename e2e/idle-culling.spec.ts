import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { createUser, harness, saveScreenshot, signIn, type TestUser } from "./harness";
import { removeUsersContainers } from "./docker";

// An idle workspace as its owner sees it in Chromium: the banner with a live countdown, Keep running once, the banner
// again, Keep running refused, then the stop (files kept). The e2e server's idle "minute" is a second.
test.describe.configure({ mode: "serial", timeout: 180_000 });

let user: TestUser;
let context: BrowserContext;
let page: Page;
let workspaceId = "";
const admin = () => ({ authorization: `Bearer ${harness().admin.token}` });

test.beforeAll(async ({ browser, request }) => {
  user = await createUser(request, "idle");
  context = await browser.newContext({ baseURL: harness().url });
  page = await context.newPage();
});

test.afterAll(async ({ request }) => {
  // Culling off again for the specs that follow.
  await request.put(`${harness().url}/api/admin/settings`, { headers: admin(), data: { idleCulling: { timeoutMinutes: 0, maxSnoozes: 3 } } });
  if (workspaceId) await context.request.delete(`/api/workspaces/${workspaceId}`, { headers: { origin: harness().url } }).catch(() => {});
  await context?.close();
  if (user) await removeUsersContainers([user.id]);
});

test("an idle workspace is warned on the dashboard, kept running once, warned again and stopped", async ({ request }, testInfo) => {
  await signIn(page, user.email, user.password);
  const launched = await context.request.post("/api/workspaces", {
    headers: { origin: harness().url },
    data: { name: "quiet", imageId: harness().image.id, gpus: 0, memoryGb: 1, cpus: 0.5 },
  });
  expect(launched.status(), await launched.text()).toBe(201);
  workspaceId = ((await launched.json()) as { id: string }).id;
  const card = page.getByRole("region", { name: "quiet" });
  await expect(card.getByRole("status")).toHaveText("running", { timeout: 120_000 });

  const on = await request.put(`${harness().url}/api/admin/settings`, { headers: admin(), data: { idleCulling: { timeoutMinutes: 10, warningMinutes: 5, maxSnoozes: 1 } } });
  expect(on.status(), await on.text()).toBe(200);

  const banner = card.getByTestId("idle-banner");
  await expect(banner).toBeVisible({ timeout: 20_000 });
  await expect(banner).toContainText("looks idle");
  // The countdown runs.
  const first = await banner.getByTestId("idle-countdown").textContent();
  await expect(banner.getByTestId("idle-countdown")).not.toHaveText(first!, { timeout: 3000 });
  await saveScreenshot(page, testInfo, "idle-banner");

  await banner.getByRole("button", { name: "Keep running" }).click();
  await expect(banner).toBeHidden();
  await expect(banner).toBeVisible({ timeout: 20_000 });
  await expect(banner).toContainText("Kept running 1 time");
  await banner.getByRole("button", { name: "Keep running" }).click();
  await expect(banner).toContainText("pressed Keep running 1 times without using the workspace");

  await expect(card.getByRole("status")).toHaveText("stopped", { timeout: 20_000 });
  await expect(card.getByText(/^Stopped after \d+ minutes idle$/)).toBeVisible();
  await expect(card.getByRole("button", { name: "Start" })).toBeEnabled();
  await expect(banner).toBeHidden();
});
