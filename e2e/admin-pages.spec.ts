import { expect, test } from "./fixtures";
import { createUser, harness, saveScreenshot, setGpuReading, signIn } from "./harness";

// The admin pages as an admin uses them, each also photographed at laptop and phone width (e2e/artifacts/).

test.beforeEach(async ({ page }) => {
  await signIn(page, harness().admin.email, harness().admin.password);
});

async function photograph(page: import("@playwright/test").Page, testInfo: import("@playwright/test").TestInfo, name: string) {
  await saveScreenshot(page, testInfo, name);
  await page.setViewportSize({ width: 390, height: 844 });
  await saveScreenshot(page, testInfo, `${name}-phone`);
  await page.setViewportSize({ width: 1280, height: 800 });
}

test("users: create a user, make them admin and back, disable and enable, reset the password", async ({ page }, testInfo) => {
  await page.goto("/admin/users");
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  const email = `carol-${Date.now().toString(36)}@e2e.gantry.test`;

  const form = page.getByRole("region", { name: "Create a user" });
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByRole("alert")).toContainText("Email");
  await form.getByRole("textbox", { name: "Email", exact: true }).fill(email);
  await form.getByRole("textbox", { name: "Password", exact: true }).fill("carol-password-1");
  await form.getByRole("button", { name: "Create user" }).click();
  await expect(form.getByRole("status")).toContainText(`Created ${email}`);

  const row = page.getByRole("row").filter({ has: page.getByRole("rowheader", { name: email }) });
  await expect(row).toBeVisible();
  await page.getByRole("combobox", { name: `Role for ${email}` }).selectOption("admin");
  await expect(page.getByRole("status").filter({ hasText: `${email} is now an admin` })).toBeVisible();
  await expect(page.getByRole("combobox", { name: `Role for ${email}` })).toHaveValue("admin");
  await page.getByRole("combobox", { name: `Role for ${email}` }).selectOption("user");
  await expect(page.getByRole("combobox", { name: `Role for ${email}` })).toHaveValue("user");

  await page.getByRole("button", { name: `Disable ${email}` }).click();
  await expect(row.getByText("Disabled")).toBeVisible();
  await page.getByRole("button", { name: `Enable ${email}` }).click();
  await expect(row.getByText("Active")).toBeVisible();

  await page.getByRole("button", { name: `Reset password for ${email}` }).click();
  const dialog = page.getByRole("dialog", { name: `Reset the password of ${email}?` });
  await dialog.getByLabel("New password").fill("carol-new-password-2");
  await dialog.getByRole("button", { name: "Reset password" }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole("status").filter({ hasText: `Password of ${email} reset` })).toBeVisible();

  // The new password works.
  const other = await page.context().browser()!.newContext({ baseURL: harness().url });
  await signIn(await other.newPage(), email, "carol-new-password-2");
  await other.close();

  await photograph(page, testInfo, "admin-users");
});

test("gpus: the inventory with model, memory and holder, and a refresh", async ({ page }, testInfo) => {
  await page.goto("/admin/gpus");
  await expect(page.getByRole("heading", { level: 1, name: "GPUs" })).toBeVisible();
  await page.getByRole("button", { name: "Refresh inventory" }).click();
  const gpus = (await (await page.request.get("/api/admin/gpus")).json()) as { name: string; uuid: string; workspaceId: string | null }[];
  if (gpus.length > 0) {
    await expect(page.getByRole("status")).toContainText(`${gpus.length} GPU`);
    await expect(page.getByRole("columnheader", { name: "Model" })).toBeVisible();
    await expect(page.getByRole("cell", { name: gpus[0].name }).first()).toBeVisible();
    // Live use of a free GPU, as the stand-in nvidia-smi reports it (the page re-reads every 5 s).
    const free = gpus.find((g) => !g.workspaceId)!;
    setGpuReading(free.uuid, { util: 88, memMb: 2048, tempC: 71, powerW: 333 });
    const panel = page.getByTestId(`gpu-telemetry-${free.uuid}`);
    await expect(panel).toContainText("Free");
    await expect(panel.getByTestId("gpu-utilization")).toHaveText("88%", { timeout: 12_000 });
    await expect(panel.getByTestId("gpu-memory")).toHaveText("2 GiB / 80 GiB");
    await expect(panel.getByTestId("gpu-temperature")).toHaveText("71 °C");
    await expect(panel.getByTestId("gpu-power")).toHaveText("333 W");
    await expect(panel.getByTestId("gpu-history-points")).toHaveText(/minutes? of history/);
    // The chart of the last hour: one point per minute, the current minute's average among them.
    const points = panel.getByTestId("gpu-history-chart").locator("circle[data-utilization]");
    await expect(points.last()).toHaveAttribute("data-utilization", /^\d+(\.\d)?$/);
    const history = (await (await page.request.get("/api/admin/gpus/telemetry")).json()).history[free.uuid] as { utilizationAvg: number }[];
    expect(await points.count()).toBeGreaterThanOrEqual(history.length - 1);
  } else {
    await expect(page.getByText("No GPUs on this host")).toBeVisible();
  }
  await photograph(page, testInfo, "admin-gpus");
});

test("images: add, edit and remove a catalog image; invalid references are refused inline", async ({ page }, testInfo) => {
  await page.goto("/admin/images");
  await expect(page.getByRole("heading", { level: 1, name: "Images" })).toBeVisible();
  await expect(page.getByRole("article", { name: "Test Jupyter" })).toContainText("{base_url}");

  const form = page.getByRole("region", { name: "Add an image" });
  const name = `E2E Busybox ${Date.now().toString(36)}`;
  await form.getByLabel("Name").fill(name);
  await form.getByLabel("Image reference").fill("gantry/test-busybox:latest");
  await form.getByRole("button", { name: "Add image" }).click();
  await expect(form.getByRole("alert")).toContainText("Image reference");
  await expect(form.getByLabel("Image reference")).toHaveAttribute("aria-invalid", "true");
  await form.getByLabel("Image reference").fill("gantry/test-busybox:1");
  await form.getByLabel("CUDA version").fill("12.1");
  await form.getByRole("button", { name: "Add image" }).click();
  await expect(form.getByRole("status")).toContainText(`Added “${name}”`);

  const card = page.getByRole("article", { name });
  await expect(card).toContainText("Needs CUDA 12.1");
  await card.getByRole("button", { name: `Edit ${name}` }).click();
  await card.getByLabel("Start command").fill("sleep infinity");
  await card.getByRole("button", { name: "Save changes" }).click();
  await expect(card).toContainText("sleep infinity");
  await photograph(page, testInfo, "admin-images");

  await card.getByRole("button", { name: `Remove ${name}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Remove image" }).click();
  await expect(page.getByRole("article", { name })).toHaveCount(0);
});

test("workspaces and audit: every workspace with force stop, the audit log newest first and paged", async ({ page }, testInfo) => {
  await page.goto("/admin/workspaces");
  await expect(page.getByRole("heading", { level: 1, name: "All workspaces" })).toBeVisible();
  await photograph(page, testInfo, "admin-workspaces");

  await page.goto("/admin/audit");
  await expect(page.getByRole("heading", { level: 1, name: "Audit log" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Audit log pages" })).toContainText(/Page 1 of \d+/);
  const firstAction = await page.getByRole("row").nth(1).getByRole("cell").nth(2).textContent();
  const events = (await (await page.request.get("/api/admin/audit?page=1&pageSize=1")).json()) as { events: { action: string }[] };
  expect(firstAction).toBe(events.events[0].action);
  await photograph(page, testInfo, "admin-audit");
});

test("quotas: the default quota for new users is editable on the quotas page", async ({ page, request }) => {
  await page.goto("/admin/quotas");
  const section = page.getByRole("region", { name: "Default quota for new users" });
  await section.getByRole("spinbutton", { name: "Default Workspaces" }).fill("");
  await section.getByRole("button", { name: "Save default quota" }).click();
  await expect(section.getByRole("alert")).toContainText("Workspaces");
  await section.getByRole("spinbutton", { name: "Default Workspaces" }).fill("4");
  await section.getByRole("button", { name: "Save default quota" }).click();
  await expect(section.getByRole("status")).toHaveText("Saved");
  const dave = await createUser(request, "dave");
  const quota = await (await request.get(`${harness().url}/api/admin/users/${dave.id}/quota`, { headers: { authorization: `Bearer ${harness().admin.token}` } })).json();
  expect(quota.quota.maxWorkspaces).toBe(4);
  // Back to the default the other specs expect.
  await section.getByRole("spinbutton", { name: "Default Workspaces" }).fill("3");
  await section.getByRole("button", { name: "Save default quota" }).click();
  await expect(section.getByRole("status")).toHaveText("Saved");
});

test("host settings: admin access cannot be turned on without per-workspace origins, and /data is checked after resolving", async ({ page }, testInfo) => {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const datasets = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-e2e-datasets-"));
  try {
    await page.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Host settings" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Host settings" })).toBeVisible();
    // This server's workspaces share one proxy origin (127.0.0.1): the page says why the setting is off.
    const access = page.getByRole("checkbox", { name: "Let admins open other users' workspaces" });
    await expect(access).toBeDisabled();
    await expect(page.getByText("needs an origin per workspace")).toBeVisible();

    const dataPath = page.getByRole("textbox", { name: "Shared data directory" });
    await dataPath.fill("/run/.");
    await page.getByRole("button", { name: "Save settings" }).click();
    await expect(page.locator("#host-settings-error")).toContainText("Shared data directory");
    await expect(dataPath).toHaveAttribute("aria-invalid", "true");
    await page.reload();
    await expect(dataPath).toHaveValue("");

    // A symlink to the real directory is stored as the directory it names.
    const link = `${datasets}-link`;
    fs.symlinkSync(datasets, link);
    try {
      await dataPath.fill(link);
      await page.getByRole("button", { name: "Save settings" }).click();
      await expect(page.getByRole("status")).toHaveText("Saved");
      await expect(dataPath).toHaveValue(fs.realpathSync(datasets));
      await photograph(page, testInfo, "admin-host-settings");
      await dataPath.fill("");
      await page.getByRole("button", { name: "Save settings" }).click();
      await expect(page.getByRole("status")).toHaveText("Saved");
    } finally {
      fs.rmSync(link, { force: true });
    }
  } finally {
    fs.rmSync(datasets, { recursive: true, force: true });
  }
});
