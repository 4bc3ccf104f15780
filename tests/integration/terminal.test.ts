import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { login, type Session } from "../helpers/http-session";
import { seedLoginUser, type LoginUser } from "../helpers/proxy";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { openTerminal, terminalUrl, type TerminalOpen } from "../helpers/terminal-client";
import { cli, createTokenWithCli } from "../helpers/run-cli";
import { freePort } from "../helpers/gantry-server";
import { BUSYBOX_IMAGE, JUPYTER_COMMAND, JUPYTER_IMAGE, exec, startGantry, waitFor, type GantryEnv } from "../helpers/workspaces";

// The browser terminal over its real WebSocket, against the real server and engine: who may open it (the session's
// owner from the dashboard's own Origin, no one else), what it runs (a login shell in /workspace as the workspace's
// non-root user), and that it ends, with its reason, within 15 s of a stop, a sign-out or a disable.

let g: GantryEnv;
let alice: LoginUser;
let bob: LoginUser;
let aliceSession: Session;
/** The dashboard's public origin: http://localhost:PORT, so that workspaces get origins of their own and admin access can be on. */
let origin: string;
let busybox: { id: string; containerId: string }; // sh only
let jupyter: { id: string; containerId: string }; // has bash
const opened: TerminalOpen[] = [];

const CLOSE_WITHIN_MS = 15_000;

async function launch(token: string, name: string, imageId: string): Promise<{ id: string; containerId: string }> {
  const res = await g.api("/api/workspaces", { token, json: { name, imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
  if (res.status !== 201) throw new Error(`launch answered ${res.status}: ${res.text}`);
  const ws = await waitFor(
    `${name} to be running`,
    () => g.api(`/api/workspaces/${res.body.id}`, { token }),
    (r) => r.status === 200 && r.body.status === "running" && !!r.body.containerId,
    120_000,
    500,
  );
  return { id: ws.body.id, containerId: ws.body.containerId };
}

function headersFor(s: Session | null, from: string | null = origin): Record<string, string> {
  const h: Record<string, string> = {};
  if (s) h.cookie = s.jar.header();
  if (from !== null) h.origin = from;
  return h;
}

async function open(workspaceId: string, s: Session = aliceSession, size?: { cols: number; rows: number }): Promise<TerminalOpen> {
  const t = await openTerminal(terminalUrl(g.url, workspaceId, size), headersFor(s));
  if (!t.ok) throw new Error(`terminal refused: ${t.status} ${t.body}`);
  opened.push(t);
  return t;
}

/** Runs one command line and returns what it printed between two markers (so the echoed input never counts). */
async function run(t: TerminalOpen, command: string): Promise<string> {
  const tag = Math.random().toString(36).slice(2, 8);
  const from = t.output().length;
  // The markers are printed by the shell from pieces, so the echoed command line itself never matches them.
  t.type(`echo "<${tag}""["; ${command}; echo "]""${tag}>"\r`);
  const re = new RegExp(`<${tag}\\[\\r?\\n([\\s\\S]*?)\\]${tag}>`);
  await t.waitFor(re, 15_000, from);
  return re.exec(t.output().slice(from))![1].replace(/\r/g, "").trim();
}

async function refusal(workspaceId: string, headers: Record<string, string>): Promise<number> {
  const t = await openTerminal(terminalUrl(g.url, workspaceId), headers);
  if (t.ok) {
    t.close();
    return 101;
  }
  return t.status;
}

beforeAll(async () => {
  const port = await freePort();
  origin = `http://localhost:${port}`;
  g = await startGantry({ prefix: "gantry-terminal-", port, env: { GANTRY_PUBLIC_URL: origin } });
  alice = await seedLoginUser(g, "alice");
  bob = await seedLoginUser(g, "bob");
  const busyboxImage = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  const jupyterImage = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  [busybox, jupyter] = await Promise.all([launch(alice.token, "shell", busyboxImage), launch(alice.token, "notebook", jupyterImage)]);
  const signedIn = await login(g.url, alice.email, alice.password);
  if (!signedIn.ok) throw new Error("alice could not sign in");
  aliceSession = signedIn.session;
}, 300_000);

afterAll(async () => {
  for (const t of opened) t.close();
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("the owner's terminal", () => {
  it("runs a shell: arithmetic, a non-root uid, /workspace, a 256-colour TERM (sh on an image without bash)", async () => {
    const t = await open(busybox.id);
    expect(await run(t, "echo $((6*7))")).toBe("42");
    const uid = await run(t, "id -u");
    expect(uid).toMatch(/^[0-9]+$/);
    expect(Number(uid)).not.toBe(0);
    expect(await run(t, "pwd")).toBe("/workspace");
    expect(await run(t, "echo $TERM")).toBe("xterm-256color");
    expect(await run(t, 'command -v bash || echo "no bash"')).toBe("no bash");
    t.close();
  });

  it("runs bash as a login shell where the image has it, as the image's user", async () => {
    const t = await open(jupyter.id);
    expect(await run(t, 'echo "${BASH_VERSION:+bash}"')).toBe("bash");
    expect(await run(t, "shopt -q login_shell && echo login")).toBe("login");
    expect(Number(await run(t, "id -u"))).toBe(1000);
    expect(await run(t, "pwd")).toBe("/workspace");
    t.close();
  });

  it("opens at the size it asks for and follows a resize (stty size)", async () => {
    const t = await open(busybox.id, aliceSession, { cols: 90, rows: 30 });
    expect(await run(t, "stty size")).toBe("30 90");
    t.resize(123, 41);
    await new Promise((r) => setTimeout(r, 300));
    expect(await run(t, "stty size")).toBe("41 123");
    t.close();
  });

  it("hangs up the shell and its foreground job when the socket closes", async () => {
    const t = await open(busybox.id);
    t.type("sleep 7777\r");
    await waitFor("the sleep to run", () => exec(busybox.containerId, ["ps"]), (r) => r.stdout.includes("sleep 7777"), 10_000);
    t.close();
    // A HUP at once, a KILL 3 s later if the shell held on; each a docker exec, slow on a loaded machine.
    // (busybox's ps shows a reaped-later zombie as "[sleep]")
    await waitFor("the sleep to be gone", () => exec(busybox.containerId, ["ps"]), (r) => !r.stdout.includes("sleep 7777"), 20_000);
  });

  it("kills a shell that traps the hang-up, and its foreground job goes with it", async () => {
    const t = await open(busybox.id);
    // A trapped HUP waits for the foreground job: only the KILL that follows ends this shell.
    t.type("trap 'echo held' HUP; sleep 7778\r");
    await waitFor("the sleep to run", () => exec(busybox.containerId, ["ps"]), (r) => r.stdout.includes("sleep 7778"), 10_000);
    t.close();
    await waitFor("the sleep to be gone", () => exec(busybox.containerId, ["ps"]), (r) => !r.stdout.includes("sleep 7778"), 20_000);
  });

  it("records the open in the audit log", async () => {
    const res = await g.api("/api/admin/audit?page=1&pageSize=100", { token: g.adminToken });
    expect(res.status, res.text).toBe(200);
    const rows = res.body.events.filter((e: any) => e.action === "terminal.open" && e.targetId === busybox.id);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows[0]).toMatchObject({ actorId: alice.id, actorEmail: alice.email, targetType: "workspace", after: { viaAdmin: false } });
  });
});

describe("who may open it", () => {
  it("nobody without a session (401), also not with an API token: a browser cannot send one on a WebSocket", async () => {
    expect(await refusal(busybox.id, headersFor(null))).toBe(401);
    expect(await refusal(busybox.id, { ...headersFor(null), authorization: `Bearer ${alice.token}` })).toBe(401);
  });

  it("not from a foreign Origin, nor without one (403), even with the owner's cookie", async () => {
    expect(await refusal(busybox.id, headersFor(aliceSession, "http://evil.example"))).toBe(403);
    expect(await refusal(busybox.id, headersFor(aliceSession, g.url.replace("127.0.0.1", "127.0.0.2")))).toBe(403);
    expect(await refusal(busybox.id, headersFor(aliceSession, null))).toBe(403);
  });

  it("another user's workspace does not exist for them (404), like an unknown one", async () => {
    const bobSession = await login(g.url, bob.email, bob.password);
    expect(bobSession.ok).toBe(true);
    expect(await refusal(busybox.id, headersFor(bobSession.session))).toBe(404);
    expect(await refusal("ws0123456789abcdef0123", headersFor(aliceSession))).toBe(404);
  });

  it("a control message it does not know, or a frame too large, closes the terminal", async () => {
    const a = await open(busybox.id);
    a.ws.send(JSON.stringify({ type: "exec", cmd: "id" }));
    expect((await a.closed).code).toBe(1008);
    const b = await open(busybox.id);
    b.ws.send(Buffer.alloc(65 * 1024, 0x61), { binary: true });
    expect((await b.closed).code).toBe(1009);
  });
});

describe("an admin, where admin access is on", () => {
  it("may open another user's terminal only while admin access is on and they are admin; the open is audited as viaAdmin; a demotion ends it", async () => {
    const email = `carol-${Date.now()}@gantry.test`;
    const password = `pw-carol-${Date.now()}`;
    const out = await cli(g.dataDir.path, ["user", "create", "--email", email, "--password", password, "--admin"]);
    const id = /\((c[a-z0-9]+)\)/.exec(out)![1];
    g.users.push({ email, id, token: await createTokenWithCli(g.dataDir.path, email) });
    const carol = (await login(g.url, email, password)).session;
    expect(await refusal(jupyter.id, headersFor(carol))).toBe(404); // admin access is off by default

    const on = await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { allowAdminWorkspaceAccess: true } });
    expect(on.status, on.text).toBe(200);
    const t = await open(jupyter.id, carol);
    expect(Number(await run(t, "id -u"))).toBe(1000); // the workspace's user, not the admin's or root
    const audit = await g.api("/api/admin/audit?page=1&pageSize=100", { token: g.adminToken });
    expect(audit.body.events.find((e: any) => e.action === "terminal.open" && e.actorId === id)).toMatchObject({ targetId: jupyter.id, after: { viaAdmin: true } });

    const t0 = performance.now();
    const demoted = await g.api(`/api/admin/users/${id}`, { method: "PATCH", token: g.adminToken, json: { role: "user" } });
    expect(demoted.status, demoted.text).toBe(200);
    const closed = await t.closed;
    expect(closed.reason).toBe("Access to this workspace ended");
    expect(closed.at - t0).toBeLessThan(CLOSE_WITHIN_MS);
    console.log(`terminal closed ${Math.round(closed.at - t0)} ms after: demotion`);
    expect(await refusal(jupyter.id, headersFor(carol))).toBe(404);
    await g.api("/api/admin/settings", { method: "PUT", token: g.adminToken, json: { allowAdminWorkspaceAccess: false } });
  });
});

describe("it ends within 15 s, with the reason shown", () => {
  async function expectClosedBy(t: TerminalOpen, action: () => Promise<void>, reason: string): Promise<number> {
    await run(t, "echo ready");
    const t0 = performance.now();
    await action();
    const closed = await Promise.race([
      t.closed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still open ${CLOSE_WITHIN_MS} ms later`)), CLOSE_WITHIN_MS + 1000)),
    ]);
    const took = closed.at - t0;
    expect(closed.reason).toBe(reason);
    expect(took).toBeLessThan(CLOSE_WITHIN_MS);
    console.log(`terminal closed ${Math.round(took)} ms after: ${reason}`);
    return took;
  }

  it("a sign-out ends that session's terminal; a terminal of another session stays", async () => {
    const other = await login(g.url, alice.email, alice.password);
    const mine = await open(busybox.id, other.session);
    const kept = await open(busybox.id);
    await expectClosedBy(
      mine,
      async () => {
        const csrf = await other.session.fetch("/api/auth/csrf");
        const { csrfToken } = (await csrf.json()) as { csrfToken: string };
        const res = await other.session.fetch("/api/auth/signout", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ csrfToken, json: "true" }).toString(),
        });
        expect(res.status).toBe(200);
      },
      "Signed out",
    );
    expect(await run(kept, "echo still")).toBe("still");
    kept.close();
  });

  it("disabling the user ends it (and enabling again lets them back in)", async () => {
    const t = await open(busybox.id);
    await expectClosedBy(
      t,
      async () => {
        const res = await g.api(`/api/admin/users/${alice.id}`, { method: "PATCH", token: g.adminToken, json: { disabled: true } });
        expect(res.status, res.text).toBe(200);
      },
      "Account disabled",
    );
    expect(await refusal(busybox.id, headersFor(aliceSession))).toBe(401);
    const res = await g.api(`/api/admin/users/${alice.id}`, { method: "PATCH", token: g.adminToken, json: { disabled: false } });
    expect(res.status, res.text).toBe(200);
  });

  it("a disable by the CLI (another process: no event reaches the server) ends it by the periodic re-check", async () => {
    const t = await open(busybox.id);
    await expectClosedBy(t, async () => void (await cli(g.dataDir.path, ["user", "disable", "--email", alice.email])), "Account disabled");
    await cli(g.dataDir.path, ["user", "enable", "--email", alice.email]);
  });

  it("a password change ends every terminal of the user's sessions", async () => {
    const t = await open(jupyter.id);
    const newPassword = `${alice.password}-new`;
    await expectClosedBy(
      t,
      async () => {
        const res = await aliceSession.fetch("/api/me/password", {
          method: "POST",
          headers: { "content-type": "application/json", origin: g.url },
          body: JSON.stringify({ currentPassword: alice.password, newPassword }),
        });
        expect(res.status, await res.text()).toBe(200);
      },
      "Password changed: sign in again",
    );
    alice.password = newPassword;
    const again = await login(g.url, alice.email, alice.password);
    expect(again.ok).toBe(true);
    aliceSession = again.session;
  });

  it("stopping the workspace ends it; a stopped workspace refuses a terminal (409)", async () => {
    const t = await open(busybox.id);
    await expectClosedBy(
      t,
      async () => {
        const res = await g.api(`/api/workspaces/${busybox.id}/stop`, { method: "POST", token: alice.token });
        expect([200, 202], res.text).toContain(res.status);
      },
      "Workspace stopped",
    );
    await waitFor("the workspace to be stopped", () => g.api(`/api/workspaces/${busybox.id}`, { token: alice.token }), (r) => r.body?.status === "stopped", 30_000);
    expect(await refusal(busybox.id, headersFor(aliceSession))).toBe(409);
  });
});
