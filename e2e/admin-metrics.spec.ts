import { expect, test } from "./fixtures";
import { harness, saveScreenshot, signIn } from "./harness";

// Prometheus metrics as an admin turns them on: Host settings shows the token once, Prometheus (here: the test's own
// request) scrapes /metrics with it, replacing it stops the old one, and turning metrics off makes /metrics a 404.

test("host settings: turn metrics on, scrape with the token shown once, replace it, turn metrics off", async ({ page, request }, testInfo) => {
  const h = harness();
  const scrape = (token: string) => request.get(`${h.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  await signIn(page, h.admin.email, h.admin.password);
  await page.goto("/admin/settings");
  const section = page.getByRole("region", { name: "Prometheus metrics" });
  await expect(section).toContainText("Metrics are off.");
  await expect(section).toContainText(`${h.url}/metrics`);

  await section.getByRole("button", { name: "Turn on metrics" }).click();
  const shown = section.getByRole("textbox", { name: "New metrics token" });
  await expect(shown).toHaveValue(/^gnm_[A-Za-z0-9_-]{43}$/);
  const token = await shown.inputValue();
  await expect(section).toContainText(`Metrics are on, with the token ${token.slice(0, 10)}…`);
  const res = await scrape(token);
  expect(res.status()).toBe(200);
  expect(await res.text()).toContain("# TYPE gantry_workspaces gauge");
  await saveScreenshot(page, testInfo, "admin-metrics-token");

  // Shown once: a reload shows only its first characters.
  await page.reload();
  await expect(section.getByRole("textbox", { name: "New metrics token" })).toHaveCount(0);
  await expect(page.getByText(token)).toHaveCount(0);

  await section.getByRole("button", { name: "Replace token" }).click();
  await page.getByRole("dialog", { name: "Replace the metrics token?" }).getByRole("button", { name: "Replace token" }).click();
  await expect(shown).toHaveValue(/^gnm_/);
  const replacement = await shown.inputValue();
  expect(replacement).not.toBe(token);
  expect((await scrape(token)).status()).toBe(401);
  expect((await scrape(replacement)).status()).toBe(200);

  await section.getByRole("button", { name: "Turn off metrics" }).click();
  await page.getByRole("dialog", { name: "Turn off Prometheus metrics?" }).getByRole("button", { name: "Turn off metrics" }).click();
  await expect(section).toContainText("Metrics are off.");
  await expect(section.getByRole("textbox", { name: "New metrics token" })).toHaveCount(0);
  expect((await scrape(replacement)).status()).toBe(404);
});
