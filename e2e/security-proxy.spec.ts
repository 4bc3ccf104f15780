import { expect, test, type Browser, type BrowserContext, type Page } from "@playwright/test";
import "../tests/helpers/localhost-names";
import { makeDataDir, type DataDir } from "../tests/helpers/data-dir";
import { freePort } from "../tests/helpers/gantry-server";
import { BrowserLike, Recorder, launchHostileWorkspace, seedLoginUser, type LoginUser } from "../tests/helpers/proxy";
import { BUSYBOX_IMAGE, JUPYTER_COMMAND, JUPYTER_IMAGE, launchJupyterWorkspace, startGantry, type GantryEnv } from "../tests/helpers/workspaces";

// The proxy's security cases that need a real browser (Chromium), on the default a localhost dashboard gets: each
// workspace on <id>.localhost.
//   - A planted grant: alice (the attacker) takes the grant URL her own browser was about to redeem and has bob's
//     browser open it. Bob's browser gets a page pointing to the dashboard and no cookie.
//   - A workspace page that tries to set the dashboard's cookie and other workspaces' cookies, by Set-Cookie
//     headers and by script: the dashboard's session stays the one the user signed in with, and no cookie lands
//     outside the workspace's own host and path.
test.describe.configure({ mode: "serial" });

let g: GantryEnv;
let dataDir: DataDir;
let dashboard: string;
let proxyPort: number;
let alice: LoginUser;
let bob: LoginUser;
let J: { id: string; url: string };
let H: { id: string; url: string };
const offsiteRequests: string[] = [];

async function localContext(browser: Browser): Promise<BrowserContext> {
  const ctx = await browser.newContext({ baseURL: dashboard });
  await ctx.route("**/*", (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === "localhost" || host.endsWith(".localhost")) return route.continue();
    offsiteRequests.push(route.request().url());
    return route.abort();
  });
  return ctx;
}

async function signIn(page: Page, user: { email: string; password: string }): Promise<void> {
  await page.goto("/login");
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password", { exact: true }).fill(user.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => url.origin === dashboard && url.pathname === "/");
}

const originOf = (id: string) => `http://${id}.localhost:${proxyPort}`;

test.beforeAll(async () => {
  test.setTimeout(300_000);
  const port = await freePort();
  proxyPort = await freePort();
  while (proxyPort === port) proxyPort = await freePort();
  dashboard = `http://localhost:${port}`;
  dataDir = makeDataDir("gantry-e2e-security-proxy-");
  g = await startGantry({ dataDir, port, proxyPort, env: { GANTRY_PUBLIC_URL: dashboard } });
  alice = await seedLoginUser(g, "alice");
  bob = await seedLoginUser(g, "bob");
  const jupyter = await g.addImage({ name: "Test Jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  const busybox = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE });
  J = await launchJupyterWorkspace(g, alice.token, { name: "notebook", imageId: jupyter });
  H = await launchHostileWorkspace(g, alice, { busyboxImageId: busybox, otherWorkspaceId: J.id, name: "hostile" });
});

test.afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  dataDir?.remove();
});

test("a grant link planted in another signed-in browser shows a page pointing to the dashboard and sets no cookie there", async ({ browser }) => {
  // Alice, the attacker, runs the handshake from a script of her own (as the attacker would, with her
  // password) and keeps the grant URL instead of redeeming it.
  const attacker = await BrowserLike.signIn(g, `http://127.0.0.1:${proxyPort}`, alice, new Recorder(), `{id}.localhost:${proxyPort}`);
  const planted = (await attacker.grantUrl(J.id)).toString();
  expect(planted).toContain(`${originOf(J.id)}/w/${J.id}/_gantry/grant?grant=`);

  const bobContext = await localContext(browser);
  try {
    const b = await bobContext.newPage();
    await signIn(b, bob);
    const answer = await b.goto(planted);
    expect(answer?.status()).toBe(403);
    await expect(b.getByRole("heading", { name: "Open this workspace from the Gantry dashboard" })).toBeVisible();
    expect((await bobContext.cookies(originOf(J.id))).map((c) => c.name)).toEqual([]);
    // Bob's browser cannot reach Alice's Jupyter by any next step: the workspace sends it to the dashboard, which says 404.
    const direct = await b.goto(J.url);
    expect(direct?.status()).toBe(404);
    expect(new URL(b.url()).origin).toBe(dashboard);
  } finally {
    await bobContext.close();
  }
  // The grant was not used up by Bob's browser: the one that asked for it still redeems it.
  const redeemed = await attacker.proxy(planted);
  expect(redeemed.status).toBe(302);
  expect(offsiteRequests).toEqual([]);
});

test("a workspace page that tries to set the dashboard's cookie, by header and by script, changes nothing outside its own path", async ({ browser }) => {
  const ctx = await localContext(browser);
  try {
    const page = await ctx.newPage();
    await signIn(page, alice);
    const before = (await ctx.cookies(dashboard)).filter((c) => c.name.includes("next-auth.session-token"));
    expect(before).toHaveLength(1);
    // Open the hostile workspace through the dashboard (the handshake), then its attacking page.
    await page.goto(H.url);
    await page.waitForURL((url) => url.origin === originOf(H.id), { timeout: 60_000 });
    await expect.poll(async () => (await page.goto(`${H.url}page`))?.status(), { timeout: 60_000 }).toBe(200);
    await expect(page.locator("#out")).toHaveText("done");

    // The dashboard's session cookie is the one it set, alone, and still signs alice in.
    const after = (await ctx.cookies(dashboard)).filter((c) => c.name.includes("next-auth"));
    expect(after.filter((c) => c.name.includes("session-token")).map((c) => ({ name: c.name, value: c.value, domain: c.domain }))).toEqual(
      before.map((c) => ({ name: c.name, value: c.value, domain: c.domain })),
    );
    const me = await page.goto(`${dashboard}/api/me`);
    expect((await me?.json()).email).toBe(alice.email);

    // Every cookie the browser holds for the proxy's hosts: H's proxy cookie and H's own cookies, on H's host and
    // under /w/<H>/, except what H's own script set on its own host (which only H's pages ever see).
    const all = await ctx.cookies();
    const fromHeaders = all.filter((c) => ["own", "nopath", "wide", "domain", "other", "dots"].includes(c.name));
    expect(fromHeaders.map((c) => `${c.name} ${c.domain} ${c.path}`).sort()).toEqual([
      `nopath ${H.id}.localhost /w/${H.id}/`,
      `own ${H.id}.localhost /w/${H.id}/`,
    ]);
    // Nothing on the dashboard's host besides its own cookies, nothing on J's host at all.
    expect(all.filter((c) => c.domain === "localhost" || c.domain === ".localhost").every((c) => c.name.startsWith("next-auth."))).toBe(true);
    expect(all.filter((c) => c.domain.includes(J.id))).toEqual([]);
    // Whatever the script wrote stayed on H's own host.
    for (const c of all.filter((c) => c.value.startsWith("planted"))) expect(c.domain).toBe(`${H.id}.localhost`);
  } finally {
    await ctx.close();
  }
  expect(offsiteRequests).toEqual([]);
});
