import { expect, test } from "./fixtures";
import { createUser, saveScreenshot, signIn } from "./harness";

test("settings: create an API token (shown once, with Copy), use it, revoke it; change the password", async ({ page, request, baseURL }, testInfo) => {
  const erin = await createUser(request, "erin");
  await signIn(page, erin.email, erin.password);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Settings" })).toBeVisible();
  await expect(page.getByText("You have no API tokens.")).toBeVisible();

  await page.getByLabel("Token name").fill("e2e laptop");
  await page.getByRole("button", { name: "Create token" }).click();
  const token = await page.getByRole("textbox", { name: "New API token" }).inputValue();
  expect(token).toMatch(/^gnt_/);
  await expect(page.getByRole("button", { name: "Copy" })).toBeVisible();
  await expect(page.getByRole("rowheader", { name: "e2e laptop" })).toBeVisible();
  const me = await request.get(`${baseURL}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  expect(me.status()).toBe(200);
  await saveScreenshot(page, testInfo, "settings");
  await page.setViewportSize({ width: 390, height: 844 });
  await saveScreenshot(page, testInfo, "settings-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // Shown once: after a reload only the prefix is left.
  await page.reload();
  await expect(page.getByRole("textbox", { name: "New API token" })).toHaveCount(0);
  await expect(page.getByRole("row").filter({ hasText: "e2e laptop" })).toContainText(token.slice(0, 10));

  await page.getByRole("button", { name: "Revoke e2e laptop" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByText("You have no API tokens.")).toBeVisible();
  expect((await request.get(`${baseURL}/api/me`, { headers: { authorization: `Bearer ${token}` } })).status()).toBe(401);

  await page.getByLabel("Current password").fill("not-my-password");
  await page.getByLabel("New password").fill("erin-new-password-1");
  await page.getByRole("button", { name: "Change password" }).click();
  const passwordSection = page.getByRole("region", { name: "Change password" });
  await expect(passwordSection.getByRole("alert")).toContainText("Current password");
  await page.getByLabel("Current password").fill(erin.password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(passwordSection.getByRole("status")).toContainText("Your password was changed");
  await expect(passwordSection.getByRole("status")).toContainText("you will need to sign in again");
  await page.getByRole("button", { name: "Sign in again" }).click();
  await page.waitForURL(/\/login/);
  await signIn(page, erin.email, "erin-new-password-1");
});
