import { expect, test, type BrowserContext } from "@playwright/test";
import { makeDataDir, type DataDir } from "../tests/helpers/data-dir";
import { freePort } from "../tests/helpers/gantry-server";
import { seedLoginUser, type LoginUser } from "../tests/helpers/proxy";
import { JUPYTER_COMMAND, JUPYTER_IMAGE, launchJupyterWorkspace, startGantry, type GantryEnv } from "../tests/helpers/workspaces";

// "Open" with GANTRY_PROXY_HOST_PATTERN: the workspace's Jupyter on a host of its own, <id>.ws.localhost (Chromium
// resolves every *.localhost name to the loopback address, as a wildcard DNS record would in production).
test.describe.configure({ mode: "serial" });

let g: GantryEnv;
let dataDir: DataDir;
let dashboard: string;
let proxyPort: number;
let user: LoginUser;
let workspace: { id: string; url: string };
let context: BrowserContext;
const offsiteRequests: string[] = [];

test.beforeAll(async ({ browser }) => {
  test.setTimeout(240_000);
  const port = await freePort();
  proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  dashboard = `http://localhost:${port}`;
  dataDir = makeDataDir("gantry-e2e-open-host-");
  g = await startGantry({ dataDir, port, proxyPort, env: { GANTRY_PUBLIC_URL: dashboard, GANTRY_PROXY_HOST_PATTERN: "{id}.ws.localhost" } });
  user = await seedLoginUser(g, "host-opener");
  const imageId = await g.addImage({ name: "Test Jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  workspace = await launchJupyterWorkspace(g, user.token, { name: "e2e-open-host", imageId });
  context = await browser.newContext({ baseURL: dashboard });
  await context.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === "localhost" || host.endsWith(".localhost") || host === "127.0.0.1") return route.continue();
    offsiteRequests.push(route.request().url());
    return route.abort();
  });
});

test.afterAll(async () => {
  await context?.close();
  await g?.cleanup();
  await g?.server.stop();
  dataDir?.remove();
});

test("Open loads Jupyter on the workspace's own host, with a cookie for that host only", async () => {
  const origin = `http://${workspace.id}.ws.localhost:${proxyPort}`;
  expect(workspace.url).toBe(`${origin}/w/${workspace.id}/`);
  const page = await context.newPage();
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.pathname === "/");

  const open = page.locator(`a[href="${workspace.url}"]`).filter({ hasText: "Open" });
  await expect(open).toBeVisible({ timeout: 30_000 });
  const newTab = context.waitForEvent("page");
  await open.click();
  const popup = await newTab;
  await popup.waitForURL((url) => url.origin === origin && url.pathname.startsWith(`/w/${workspace.id}/tree`), { timeout: 60_000 });
  // Jupyter fills the list from its API after the page loads: slow on a loaded 2-core machine.
  await expect(popup.locator("#notebook_list")).toBeVisible({ timeout: 45_000 });

  const own = (await context.cookies(`${origin}/w/${workspace.id}/`)).find((c) => c.name === `gantry_proxy_${workspace.id}`);
  expect(own).toMatchObject({ domain: `${workspace.id}.ws.localhost`, path: `/w/${workspace.id}/`, httpOnly: true });
  // Not on the bare proxy host, nor on any other workspace's host.
  expect(await context.cookies(`http://127.0.0.1:${proxyPort}/w/${workspace.id}/`)).toEqual([]);
  expect((await context.cookies(`http://wsffffffffffffffffffff.ws.localhost:${proxyPort}/w/${workspace.id}/`)).filter((c) => c.name.startsWith("gantry_"))).toEqual([]);
  expect(offsiteRequests).toEqual([]);
});
