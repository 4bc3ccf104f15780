import type { Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { ADMIN, USER } from "./seed";

const REFUSED = "Wrong email or password, or the account is disabled.";

async function fillSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

async function signIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await fillSignIn(page, email, password);
}

test("a visitor of / is sent to the login page", async ({ page, baseURL }) => {
  await page.goto("/");
  await expect(page).toHaveURL(`${baseURL}/login?next=%2F`);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});

test("the admin signs in and sees the dashboard", async ({ page, baseURL }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page.getByRole("heading", { name: "My workspaces" })).toBeVisible();
  await expect(page).toHaveURL(`${baseURL}/`);
  await expect(page.getByRole("button", { name: "Sign out" })).toBeVisible();
});

test("a user seeded by the CLI signs in and sees the dashboard", async ({ page }) => {
  await signIn(page, USER.email, USER.password);
  await expect(page.getByRole("heading", { name: "My workspaces" })).toBeVisible();
  await expect(page.getByText(USER.name)).toBeVisible();
});

test("a wrong password shows an alert and signs nobody in", async ({ page, baseURL }) => {
  await signIn(page, USER.email, "not-the-password");
  // Next.js keeps an empty role="alert" route announcer on every page: look for the one with the message.
  await expect(page.getByRole("alert").filter({ hasText: REFUSED })).toBeVisible();
  await expect(page).toHaveURL(`${baseURL}/login`);
  await page.goto("/");
  await expect(page).toHaveURL(`${baseURL}/login?next=%2F`);
});

test("Sign out returns to the login page, and / then redirects to /login, also for a copy of the old cookie", async ({ page, baseURL, browser }) => {
  await signIn(page, ADMIN.email, ADMIN.password);
  await expect(page.getByRole("heading", { name: "My workspaces" })).toBeVisible();
  const copied = (await page.context().cookies()).filter((c) => c.name.includes("next-auth.session-token"));
  expect(copied).toHaveLength(1);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(`${baseURL}/login`);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

  await page.goto("/");
  await expect(page).toHaveURL(`${baseURL}/login?next=%2F`);
  await expect(page.getByRole("heading", { name: "My workspaces" })).toHaveCount(0);

  // Someone who copied the cookie before the sign-out gets nothing with it: the session ended on the server.
  const other = await browser.newContext({ baseURL });
  try {
    await other.addCookies(copied);
    const p = await other.newPage();
    await p.goto("/");
    await expect(p).toHaveURL(`${baseURL}/login?next=%2F`);
    expect((await other.request.get("/api/me")).status()).toBe(401);
  } finally {
    await other.close();
  }
});

test("after sign-in, next= leads back to the page asked for, but never off-site", async ({ page, baseURL }) => {
  await page.goto("/login?next=%2Fsettings");
  await fillSignIn(page, USER.email, USER.password);
  await expect(page).toHaveURL(`${baseURL}/settings`);

  for (const next of ["//evil.example/", "https://evil.example/"]) {
    await page.context().clearCookies();
    await page.goto(`/login?next=${encodeURIComponent(next)}`);
    await fillSignIn(page, USER.email, USER.password);
    await expect(page, `next=${next}`).toHaveURL(`${baseURL}/`);
  }
});
