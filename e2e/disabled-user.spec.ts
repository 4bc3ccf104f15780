import type { Page } from "@playwright/test";
import { cli } from "../tests/helpers/run-cli";
import { expect, test } from "./fixtures";
import { harness } from "./harness";
import { uniqueEmail } from "./seed";

// Each test makes its own user with the operator CLI, on the data dir of the server under test.
const PASSWORD = "disabled-user-pass-1";
const REFUSED = "Wrong email or password, or the account is disabled.";

async function signIn(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a user disabled with `npx gantry user disable` cannot sign in", async ({ page, baseURL }) => {
  const email = uniqueEmail("disabled");
  await cli(harness().dataDir, ["user", "create", "--email", email, "--password", PASSWORD]);
  await cli(harness().dataDir, ["user", "disable", "--email", email]);

  await signIn(page, email);
  await expect(page.getByRole("alert").filter({ hasText: REFUSED })).toBeVisible();
  await expect(page).toHaveURL(`${baseURL}/login`);
  await expect(page.getByRole("heading", { name: "My workspaces" })).toHaveCount(0);
});

test("a signed-in user who is then disabled is sent to the login page on the next visit", async ({ page, baseURL }) => {
  const email = uniqueEmail("later-disabled");
  await cli(harness().dataDir, ["user", "create", "--email", email, "--password", PASSWORD]);
  await signIn(page, email);
  await expect(page.getByRole("heading", { name: "My workspaces" })).toBeVisible();

  await cli(harness().dataDir, ["user", "disable", "--email", email]);
  await page.reload();
  await expect(page).toHaveURL(`${baseURL}/login?next=%2F`);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();
});
