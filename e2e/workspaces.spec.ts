import crypto from "node:crypto";
import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { createUser, harness, saveScreenshot, setGpuReading, signIn, type TestUser } from "./harness";
import { containersOfWorkspace, execIn, removeUsersContainers, runningContainer } from "./docker";

// One user's day with a workspace, in order: launch it and watch it run (live), hit a quota the admin just lowered,
// and reset the environment while keeping /workspace. Each step needs the previous one, hence serial.
// Launches and resets of a real Jupyter container take tens of seconds on a busy two-core machine.
test.describe.configure({ mode: "serial", timeout: 240_000 });

const NAME = "e2e-notebook";
let user: TestUser;
let context: BrowserContext;
let page: Page;
let workspaceId = "";

test.beforeAll(async ({ browser, request }) => {
  user = await createUser(request, "alice");
  context = await browser.newContext({ baseURL: harness().url });
  page = await context.newPage();
});

test.afterAll(async () => {
  // Through Gantry first (frees the GPU and the record), then whatever is left in Docker: the user's containers
  // (label gantry.user) and their /workspace volume.
  if (workspaceId) await context.request.delete(`/api/workspaces/${workspaceId}`, { headers: { origin: harness().url } }).catch(() => {});
  await context?.close();
  if (user) await removeUsersContainers([user.id]);
});

/** A state change as another tab of the same user would make it: the session cookie and the dashboard's Origin. */
async function actElsewhere(path: string): Promise<void> {
  const res = await context.request.post(path, { headers: { origin: harness().url } });
  expect(res.status(), await res.text()).toBe(200);
}

test("a user logs in, launches a workspace from the test image and sees it running, updated live", async ({ request }, testInfo) => {
  await page.goto("/login");
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
  await saveScreenshot(page, testInfo, "login");
  await signIn(page, user.email, user.password);

  await expect(page.getByText("No workspaces yet")).toBeVisible();
  await expect(page.getByRole("meter", { name: "Workspaces" })).toHaveAttribute("aria-valuenow", "0");
  await expect(page.getByRole("meter", { name: "Workspaces" })).toHaveAttribute("aria-valuemax", "3");

  // One GPU when the host has any (the CI stand-in lists four), so the card can show which one it got.
  const gpus = (await (await request.get(`${harness().url}/api/admin/gpus`, { headers: { authorization: `Bearer ${harness().admin.token}` } })).json()) as unknown[];
  const wantGpus = gpus.length > 0 ? 1 : 0;

  await page.getByRole("textbox", { name: "Name", exact: true }).fill(NAME);
  await page.getByRole("combobox", { name: "Image", exact: true }).selectOption({ label: "Test Jupyter" });
  await page.getByRole("spinbutton", { name: "GPUs", exact: true }).fill(String(wantGpus));
  await page.getByRole("spinbutton", { name: "Memory (GB)", exact: true }).fill("1");
  await page.getByRole("spinbutton", { name: "CPUs", exact: true }).fill("0.5");
  await saveScreenshot(page, testInfo, "launch-form");
  await page.getByRole("button", { name: "Launch" }).click();

  const card = page.getByRole("region", { name: NAME });
  await expect(card.getByRole("status")).toHaveText("running", { timeout: 120_000 });
  await expect(card.getByText("1 GB")).toBeVisible();
  await expect(card.getByText("Test Jupyter")).toBeVisible();
  if (wantGpus) {
    await expect(card.getByText(/^#\d+/)).toBeVisible();
    // Live telemetry: what the stand-in nvidia-smi reports for this GPU shows on the card within 5 s.
    const uuid = (await card.locator("li[title^='GPU-']").getAttribute("title"))!;
    setGpuReading(uuid, { util: 73, memMb: 12 * 1024 });
    const live = card.getByTestId(`gpu-live-${uuid}`);
    await expect(live.getByTestId("gpu-utilization")).toHaveText("73%", { timeout: 5000 });
    await expect(live.getByTestId("gpu-memory")).toHaveText("12 GiB / 80 GiB");
    setGpuReading(uuid, { util: 5, memMb: 512 });
    await expect(live.getByTestId("gpu-utilization")).toHaveText("5%", { timeout: 5000 });
  }
  const open = card.getByRole("link", { name: "Open" });
  await expect(open).toHaveAttribute("target", "_blank");
  const href = await open.getAttribute("href");
  workspaceId = /\/w\/(ws[0-9a-f]+)\//.exec(href ?? "")?.[1] ?? "";
  expect(workspaceId, `Open link ${href}`).not.toBe("");
  await expect(page.getByRole("meter", { name: "Workspaces" })).toHaveAttribute("aria-valuenow", "1");
  await expect(page.getByRole("meter", { name: "Memory" })).toHaveAttribute("aria-valuenow", "1");

  // Live: another tab stops and starts the workspace; this page follows through server-sent events, no reload.
  await page.evaluate(() => ((window as unknown as { e2eMarker: string }).e2eMarker = "same page"));
  await actElsewhere(`/api/workspaces/${workspaceId}/stop`);
  await expect(card.getByRole("status")).toHaveText("stopped");
  await expect(card.getByRole("button", { name: "Start" })).toBeEnabled();
  await expect(card.getByRole("link", { name: "Open" })).toBeDisabled();
  await actElsewhere(`/api/workspaces/${workspaceId}/start`);
  await expect(card.getByRole("status")).toHaveText("running", { timeout: 60_000 });
  await expect(card.getByRole("button", { name: "Stop" })).toBeEnabled();
  expect(await page.evaluate(() => (window as unknown as { e2eMarker?: string }).e2eMarker)).toBe("same page");

  await saveScreenshot(page, testInfo, "workspaces-running");
  await page.setViewportSize({ width: 390, height: 844 });
  await saveScreenshot(page, testInfo, "workspaces-running-phone");
  await page.setViewportSize({ width: 1280, height: 800 });
});

test("the admin lowers the user's quota; the user's next launch is refused with a message naming the quota", async ({ browser, request }, testInfo) => {
  test.skip(!workspaceId, "needs the running workspace of the previous test");
  const admin = await browser.newContext({ baseURL: harness().url });
  const adminPage = await admin.newPage();
  try {
    await signIn(adminPage, harness().admin.email, harness().admin.password);
    await adminPage.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Quotas" }).click();
    await expect(adminPage.getByRole("heading", { level: 1, name: "Quotas" })).toBeVisible();

    const workspacesInput = adminPage.getByRole("spinbutton", { name: `Workspaces for ${user.email}` });
    const row = adminPage.getByRole("row").filter({ has: workspacesInput });
    await expect(workspacesInput).toHaveAccessibleDescription("1 of 3 in use");
    await workspacesInput.fill("1");
    await adminPage.getByRole("button", { name: `Save quota for ${user.email}` }).click();
    await expect(row.getByRole("status")).toHaveText("Saved");
    await expect(workspacesInput).toHaveAccessibleDescription("1 of 1 in use");
    await saveScreenshot(adminPage, testInfo, "admin-quotas");

    // Inline validation: a value the API refuses is named next to its row, and nothing is saved.
    await adminPage.getByRole("spinbutton", { name: `Memory (GB) for ${user.email}` }).fill("2.25");
    await adminPage.getByRole("button", { name: `Save quota for ${user.email}` }).click();
    // (Next.js keeps an empty role="alert" route announcer on every page: look for the row's own message.)
    await expect(adminPage.getByRole("alert").filter({ hasText: user.email })).toContainText("Memory (GB)");
    await expect(adminPage.getByRole("spinbutton", { name: `Memory (GB) for ${user.email}` })).toHaveAttribute("aria-invalid", "true");
  } finally {
    await admin.close();
  }

  const quota = await (await request.get(`${harness().url}/api/admin/users/${user.id}/quota`, { headers: { authorization: `Bearer ${harness().admin.token}` } })).json();
  expect(quota.quota).toMatchObject({ maxWorkspaces: 1, maxMemoryGb: 16 });

  // The user's page is still the one from before the change: the server, not the form, refuses.
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("e2e-second");
  await page.getByRole("spinbutton", { name: "GPUs", exact: true }).fill("0");
  await page.getByRole("spinbutton", { name: "Memory (GB)", exact: true }).fill("1");
  await page.getByRole("spinbutton", { name: "CPUs", exact: true }).fill("0.5");
  await page.getByRole("button", { name: "Launch" }).click();
  const alert = page.getByRole("complementary").getByRole("alert");
  await expect(alert).toContainText("Workspaces");
  await expect(alert).toContainText("quota");
  await expect(page.getByRole("region", { name: "e2e-second" })).toHaveCount(0);
  const mine = await (await context.request.get("/api/workspaces")).json();
  expect(mine).toHaveLength(1);
});

test("reset environment: a new container, with the file in /workspace still there and the rest gone", async ({}, testInfo) => {
  test.skip(!workspaceId, "needs the running workspace of the first test");
  await page.reload();
  const card = page.getByRole("region", { name: NAME });
  await expect(card.getByRole("status")).toHaveText("running");

  const before = await runningContainer(workspaceId);
  const marker = `kept-${crypto.randomBytes(6).toString("hex")}`;
  const write = await execIn(before.Id, ["sh", "-c", `echo ${marker} > /workspace/e2e-keep.txt && echo lost > /tmp/e2e-lost.txt && id -u`]);
  expect(write.exitCode, write.output).toBe(0);
  expect(write.output.trim()).not.toBe("0"); // written as the container's own (non-root) user

  // The card's confirmations are not in the page until first opened; Cancel closes one and hands focus back.
  await expect(card.locator("dialog")).toHaveCount(0);
  const resetButton = card.getByRole("button", { name: "Reset environment" });
  const dialog = page.getByRole("dialog", { name: `Reset the environment of “${NAME}”?` });
  await resetButton.click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(resetButton).toBeFocused();
  expect((await containersOfWorkspace(workspaceId)).find((c) => c.State === "running")?.Id).toBe(before.Id);

  await resetButton.click();
  await expect(dialog).toBeVisible();
  await expect(dialog).toContainText("Kept: everything in /workspace");
  await expect(dialog).toContainText("packages you installed");
  await expect(dialog).toContainText("files outside /workspace");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await saveScreenshot(page, testInfo, "reset-dialog", { fullPage: false });
  await dialog.getByRole("button", { name: "Reset environment" }).click();
  await expect(dialog).toBeHidden();

  await expect.poll(async () => (await containersOfWorkspace(workspaceId)).find((c) => c.State === "running")?.Id ?? "", { timeout: 120_000 }).not.toBe(before.Id);
  await expect.poll(async () => (await containersOfWorkspace(workspaceId)).find((c) => c.State === "running")?.Id ?? "", { timeout: 120_000 }).not.toBe("");
  await expect(card.getByRole("status")).toHaveText("running", { timeout: 120_000 });

  const after = await runningContainer(workspaceId);
  expect(after.Id).not.toBe(before.Id);
  expect(await containersOfWorkspace(workspaceId)).toHaveLength(1); // the old container is gone
  const kept = await execIn(after.Id, ["cat", "/workspace/e2e-keep.txt"]);
  expect(kept).toEqual({ exitCode: 0, output: `${marker}\n` });
  const lost = await execIn(after.Id, ["test", "-e", "/tmp/e2e-lost.txt"]);
  expect(lost.exitCode).toBe(1);
});
