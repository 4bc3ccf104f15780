import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import { makeDataDir, type DataDir } from "../tests/helpers/data-dir";
import { freePort } from "../tests/helpers/gantry-server";
import { seedLoginUser, type LoginUser } from "../tests/helpers/proxy";
import { JUPYTER_COMMAND, JUPYTER_IMAGE, envValue, inspect, launchJupyterWorkspace, startGantry, type GantryEnv } from "../tests/helpers/workspaces";

// "Open": the workspace's Jupyter in a new tab, on the proxy's own origin, entered through the dashboard's grant.
// This spec runs its own server (not the shared one from global setup) because it needs the dashboard's public URL
// and the proxy's port fixed up front: the dashboard on http://localhost:PORT (GANTRY_PUBLIC_URL) and the proxy on
// one origin shared by all workspaces, http://127.0.0.1:PROXY_PORT (GANTRY_PROXY_HOST_PATTERN=none; a localhost
// dashboard would otherwise give each workspace <id>.localhost, see open-workspace-host.spec.ts), so that the
// browser keeps the two origins' cookies apart.
test.describe.configure({ mode: "serial" });

let g: GantryEnv;
let dataDir: DataDir;
let dashboard: string;
let proxyOrigin: string;
let user: LoginUser;
let workspace: { id: string; url: string; containerId: string; name: string };
let jupyterToken: string;
let context: BrowserContext;
let page: Page;
let popup: Page;
const offsiteRequests: string[] = [];

/** A browser context that may talk to 127.0.0.1 and localhost only; anything else is aborted and remembered. */
async function localContext(browser: Browser): Promise<BrowserContext> {
  const ctx = await browser.newContext({ baseURL: dashboard });
  await ctx.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === "127.0.0.1" || host === "localhost") return route.continue();
    offsiteRequests.push(route.request().url());
    return route.abort();
  });
  return ctx;
}

async function fillLogin(p: Page, email: string, password: string): Promise<void> {
  await p.getByLabel("Email").fill(email);
  await p.getByLabel("Password", { exact: true }).fill(password);
  await p.getByRole("button", { name: "Sign in" }).click();
}

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  const port = await freePort();
  let proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  dashboard = `http://localhost:${port}`;
  proxyOrigin = `http://127.0.0.1:${proxyPort}`;
  dataDir = makeDataDir("gantry-e2e-open-");
  g = await startGantry({ dataDir, port, proxyPort, env: { GANTRY_PUBLIC_URL: dashboard, GANTRY_PROXY_HOST_PATTERN: "none" } });
  user = await seedLoginUser(g, "opener");
  const imageId = await g.addImage({ name: "Test Jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  workspace = await launchJupyterWorkspace(g, user.token, { name: "e2e-open", imageId });
  jupyterToken = envValue((await inspect(workspace.containerId))!, "JUPYTER_TOKEN")!;
  context = await localContext(browser);
  page = await context.newPage();
});

test.afterAll(async () => {
  await context?.close();
  await g?.cleanup();
  await g?.server.stop();
  dataDir?.remove();
});

test("the user signs in, clicks Open on the running workspace, and Jupyter's tree page loads in a new tab on the proxy's origin", async () => {
  expect(new URL(workspace.url).origin).toBe(proxyOrigin);
  await page.goto("/login");
  await fillLogin(page, user.email, user.password);
  await page.waitForURL((url) => url.pathname === "/");

  const open = page.locator(`a[href="${workspace.url}"]`).filter({ hasText: "Open" });
  await expect(open).toBeVisible({ timeout: 30_000 });
  await expect(open).toHaveAttribute("target", "_blank");
  const newTab = context.waitForEvent("page");
  await open.click();
  popup = await newTab;

  await popup.waitForURL((url) => url.origin === proxyOrigin && url.pathname.startsWith(`/w/${workspace.id}/tree`), { timeout: 60_000 });
  await expect(popup).toHaveTitle(/Home/);
  // Jupyter fills the list from its API after the page loads: slow on a loaded 2-core machine.
  await expect(popup.locator("#notebook_list")).toBeVisible({ timeout: 45_000 });
  // The dashboard stays where it was, in its own tab.
  expect(new URL(page.url()).origin).toBe(dashboard);

  // The proxy's cookie is the proxy's alone, scoped to this workspace; the dashboard's session never goes there.
  const proxyCookies = await context.cookies(`${proxyOrigin}/w/${workspace.id}/`);
  const own = proxyCookies.find((c) => c.name === `gantry_proxy_${workspace.id}`);
  expect(own).toMatchObject({ path: `/w/${workspace.id}/`, httpOnly: true });
  expect(proxyCookies.filter((c) => c.name.includes("next-auth"))).toEqual([]);
  expect(offsiteRequests).toEqual([]);
});

test("a browser without a grant is sent through the dashboard's login and back into the workspace", async ({ browser }) => {
  const ctx = await localContext(browser);
  try {
    const p = await ctx.newPage();
    await p.goto(workspace.url);
    await p.waitForURL((url) => url.origin === dashboard && url.pathname === "/login");
    await fillLogin(p, user.email, user.password);
    await p.waitForURL((url) => url.origin === proxyOrigin && url.pathname.startsWith(`/w/${workspace.id}/tree`), { timeout: 60_000 });
    await expect(p).toHaveTitle(/Home/);
  } finally {
    await ctx.close();
  }
  expect(offsiteRequests).toEqual([]);
});

for (const next of ["//evil.com", "https://other.example/", "/\\evil.com", "%2F%2Fevil.com", "javascript:alert(1)"]) {
  test(`signing in from /login?next=${next} lands on the dashboard's own origin`, async ({ browser }) => {
    const ctx = await localContext(browser);
    const dialogs: string[] = [];
    try {
      const p = await ctx.newPage();
      p.on("dialog", (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await p.goto(`/login?next=${next}`);
      await fillLogin(p, user.email, user.password);
      await p.waitForURL((url) => url.pathname !== "/login");
      await p.waitForLoadState("load");
      expect(new URL(p.url()).origin).toBe(dashboard);
      expect(new URL(p.url()).pathname).toBe("/");
    } finally {
      await ctx.close();
    }
    expect(dialogs).toEqual([]);
    expect(offsiteRequests).toEqual([]);
  });
}

// Last, so that its failure (the tests run in series) skips nothing.
test("the page Chromium shows for the workspace holds no Jupyter token (DOM, links, cookies readable by scripts)", async () => {
  expect(jupyterToken.length).toBeGreaterThanOrEqual(16);
  const html = await popup.content();
  const script = await popup.evaluate(() => document.cookie + "\n" + document.body.dataset.jupyterApiToken + "\n" + location.href);
  const hits = [html, script].flatMap((text) =>
    text
      .split("\n")
      .filter((l) => l.includes(jupyterToken))
      .map((l) => l.trim().replaceAll(jupyterToken, "<JUPYTER_TOKEN>").slice(0, 160)),
  );
  expect(hits).toEqual([]);
});
