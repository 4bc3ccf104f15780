import { expect, test } from "./fixtures";
import { createUser, saveScreenshot, signIn } from "./harness";

const ADMIN_PAGES = ["/admin/quotas", "/admin/users", "/admin/gpus", "/admin/images", "/admin/workspaces", "/admin/usage", "/admin/audit", "/admin/settings"];

test("a non-admin sees no admin navigation and gets the 403 page, with status 403, on every admin URL", async ({ page, request }, testInfo) => {
  const bob = await createUser(request, "bob");
  await signIn(page, bob.email, bob.password);
  await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  await expect(page.getByRole("navigation", { name: "Admin" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Quotas" })).toHaveCount(0);

  const response = await page.goto("/admin/quotas");
  expect(response?.status()).toBe(403);
  await expect(page.getByRole("heading", { level: 1, name: "403 — Forbidden" })).toBeVisible();
  await expect(page.getByRole("spinbutton")).toHaveCount(0);
  await saveScreenshot(page, testInfo, "forbidden");

  for (const path of ADMIN_PAGES.slice(1)) {
    const res = await page.goto(path);
    expect(res?.status(), path).toBe(403);
    await expect(page.getByRole("heading", { level: 1, name: "403 — Forbidden" })).toBeVisible();
  }
});

test("an anonymous visitor of an admin URL is sent to the login page, and back after signing in", async ({ page }) => {
  await page.goto("/admin/quotas");
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin%2Fquotas$/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});
