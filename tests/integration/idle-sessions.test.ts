import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, type Session } from "../helpers/http-session";
import { seedLoginUser, type LoginUser } from "../helpers/proxy";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { openTerminal, terminalUrl, type TerminalOpen } from "../helpers/terminal-client";
import { freePort } from "../helpers/gantry-server";
import { BUSYBOX_IMAGE, startGantry, waitFor, type GantryEnv } from "../helpers/workspaces";

// An open session is use, however quiet: a workspace with a terminal open (nothing typed) is never taken for idle;
// once the terminal closes, the clock runs from that moment. A "minute" is a second here (GANTRY_IDLE_MINUTE_MS).

let g: GantryEnv;
let origin: string;
let alice: LoginUser;
let session: Session;
let workspaceId: string;
let terminal: TerminalOpen;

const view = () => g.api(`/api/workspaces/${workspaceId}`, { token: alice.token });

beforeAll(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  g = await startGantry({ prefix: "gantry-idle-sessions-", port, env: { GANTRY_PUBLIC_URL: origin, GANTRY_IDLE_MINUTE_MS: "1000", GANTRY_IDLE_CHECK_MS: "250" } });
  alice = await seedLoginUser(g, "alice");
  const imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  const res = await g.api("/api/workspaces", { token: alice.token, json: { name: "shell", imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
  if (res.status !== 201) throw new Error(`launch answered ${res.status}: ${res.text}`);
  workspaceId = res.body.id;
  await waitFor("running", view, (r) => r.body?.status === "running", 120_000, 250);
  const signedIn = await login(g.url, alice.email, alice.password);
  if (!signedIn.ok) throw new Error("alice could not sign in");
  session = signedIn.session;
}, 300_000);

afterAll(async () => {
  terminal?.close();
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("sessions and idle culling", () => {
  it("a quiet open terminal keeps the workspace from being warned; closing it starts the clock", async () => {
    const t = await openTerminal(terminalUrl(g.url, workspaceId), { cookie: session.jar.header(), origin });
    if (!t.ok) throw new Error(`terminal refused: ${t.status} ${t.body}`);
    terminal = t;
    const on = await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { idleCulling: { timeoutMinutes: 4, warningMinutes: 2 } } });
    expect(on.status, on.text).toBe(200);
    // Twice the timeout with the terminal open and nothing typed.
    await new Promise((r) => setTimeout(r, 8000));
    expect((await view()).body).toMatchObject({ status: "running", idle: null });

    t.close();
    const closedAt = Date.now();
    const warned = await waitFor("the warning", view, (r) => r.body?.idle !== null, 15_000, 100);
    // Counted from the close: the warning comes when 2 of the 4 "minutes" are left, not at once.
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(1500);
    expect(Date.parse(warned.body.idle.stopAt) - closedAt).toBeGreaterThanOrEqual(3500);
  }, 60_000);
});
