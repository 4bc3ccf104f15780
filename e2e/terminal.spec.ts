import type { BrowserContext, Page } from "@playwright/test";
import { expect, test } from "./fixtures";
import { createUser, harness, saveScreenshot, signIn } from "./harness";

// The browser terminal in Chromium: Terminal on a running workspace's card opens a new tab with xterm.js; what is
// typed runs in the workspace's shell, and resizing the window resizes the shell's terminal (stty size).
test.describe.configure({ mode: "serial" });

let context: BrowserContext;
let workspaceId: string | undefined;

test.afterAll(async () => {
  if (workspaceId) await context?.request.delete(`/api/workspaces/${workspaceId}`, { headers: { origin: harness().url } }).catch(() => {});
  await context?.close();
});

/** The terminal's screen as text, one line per row, from the DOM renderer's rows. */
async function screen(p: Page): Promise<string> {
  const rows = await p.locator(".xterm-rows > div").allTextContents();
  return rows.map((r) => r.replace(/\u00a0/g, " ").trimEnd()).join("\n");
}

/** Types a command whose output carries a marker the typed line itself does not (the shell joins "A""B"). */
async function runIn(p: Page, tag: string, command: string): Promise<string> {
  await p.keyboard.type(`echo "${tag}""= $(${command})"\n`);
  const re = new RegExp(`^${tag}= (.*)$`, "m");
  await expect.poll(async () => re.exec(await screen(p))?.[1] ?? null, { timeout: 15_000 }).not.toBeNull();
  return re.exec(await screen(p))![1].trim();
}

test("Terminal opens a shell in a new tab: a command's output shows, and a window resize reaches stty", async ({ browser, baseURL, request }, testInfo) => {
  test.setTimeout(180_000);
  const user = await createUser(request, "terminal");
  context = await browser.newContext({ baseURL, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await signIn(page, user.email, user.password);

  const launched = await context.request.post("/api/workspaces", {
    headers: { origin: harness().url },
    data: { name: "e2e-terminal", imageId: harness().image.id, gpus: 0, memoryGb: 1, cpus: 0.5 },
  });
  expect(launched.status(), await launched.text()).toBe(201);
  workspaceId = ((await launched.json()) as { id: string }).id;
  await expect
    .poll(async () => ((await (await context.request.get(`/api/workspaces/${workspaceId}`)).json()) as { status: string }).status, { timeout: 90_000 })
    .toBe("running");

  await page.reload();
  const card = page.getByRole("region", { name: "e2e-terminal" });
  const button = card.getByRole("link", { name: "Terminal" });
  await expect(button).toBeVisible();
  const newTab = context.waitForEvent("page");
  await button.click();
  const term = await newTab;
  await term.waitForURL((url) => url.pathname === `/workspaces/${workspaceId}/terminal`);
  await expect(term.getByRole("status")).toHaveText("Connected", { timeout: 30_000 });
  await term.locator(".xterm-helper-textarea").focus();

  expect(await runIn(term, "SIX", "echo $((6*7))")).toBe("42");
  expect(await runIn(term, "WHO", "id -u")).not.toBe("0");
  expect(await runIn(term, "WHERE", "pwd")).toBe("/workspace");
  const before = await runIn(term, "BEFORE", "stty size");
  await saveScreenshot(term, testInfo, "terminal", { fullPage: false });

  await term.setViewportSize({ width: 700, height: 420 });
  await expect
    .poll(async () => {
      await term.keyboard.type("clear\n");
      return runIn(term, `AFTER${Math.floor(Math.random() * 1e6)}`, "stty size");
    }, { timeout: 20_000 })
    .not.toBe(before);
  const [rowsBefore, colsBefore] = before.split(" ").map(Number);
  const after = await runIn(term, "FINAL", "stty size");
  const [rows, cols] = after.split(" ").map(Number);
  expect(rows).toBeLessThan(rowsBefore);
  expect(cols).toBeLessThan(colsBefore);
  // The shell's size is the size the page's xterm fits into the smaller window (about 9 px a column at 14 px).
  expect(cols).toBeGreaterThan(40);
});
