// Pieces of the workspace-proxy tests: a user with a password (to sign in like a browser), a browser-like client
// that keeps the dashboard's cookies and the proxy's cookies apart (they are different origins), the open/grant
// handshake, and a recorder of everything the servers answered, to search for secrets afterwards.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CookieJar, login, type Session } from "./http-session";
import { REPO_ROOT } from "./paths";
import { cli, createTokenWithCli } from "./run-cli";
import { JUPYTER_IMAGE, exec, unique, type GantryEnv, type Seeded } from "./workspaces";

export type LoginUser = Seeded & { password: string };

/** A user made by the real CLI, with a known password and an API token; cleaned up with the environment. */
export async function seedLoginUser(g: GantryEnv, name: string): Promise<LoginUser> {
  const email = `${unique(name)}@gantry.test`;
  const password = `pw-${crypto.randomBytes(9).toString("hex")}`;
  const out = await cli(g.dataDir.path, ["user", "create", "--email", email, "--password", password]);
  const id = /\((c[a-z0-9]+)\)/.exec(out)?.[1];
  if (!id) throw new Error(`gantry user create printed no id: ${out}`);
  const token = await createTokenWithCli(g.dataDir.path, email);
  const user = { email, id, token, password };
  g.users.push(user);
  return user;
}

/** Every response body and every header the tests saw, kept for one search for secrets at the end. */
export class Recorder {
  private readonly chunks: string[] = [];

  add(what: string, text: string): void {
    this.chunks.push(`--- ${what}\n${text}`);
  }

  async response(what: string, res: Response): Promise<string> {
    const text = await res.text();
    const headers = [...res.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
    this.add(`${what} -> ${res.status}`, `${headers}\n\n${text}`);
    return text;
  }

  text(): string {
    return this.chunks.join("\n");
  }

  /** Names the recorded responses that contain `secret` (empty when none does). */
  containing(secret: string): string[] {
    return this.chunks.filter((c) => c.includes(secret)).map((c) => c.split("\n")[0]);
  }
}

export type Fetched = { res: Response; status: number; text: string; location: string | null };

/**
 * What a browser signed in to the dashboard holds: the dashboard's session cookie (for the dashboard's origin) and
 * the proxy's own per-workspace cookies (for the proxy's origin). Requests never follow redirects by themselves.
 */
export class BrowserLike {
  readonly proxyJar = new CookieJar();

  constructor(
    readonly dashboard: Session | null,
    readonly dashboardUrl: string,
    readonly proxyUrl: string,
    readonly recorder: Recorder,
    /** "{id}.localhost:PORT" where each workspace has a host of its own; proxy paths then go to their workspace's host. */
    readonly workspaceHost?: string,
  ) {}

  static async signIn(g: GantryEnv, proxyUrl: string, user: { email: string; password: string }, recorder: Recorder, workspaceHost?: string): Promise<BrowserLike> {
    const { ok, session } = await login(g.url, user.email, user.password);
    if (!ok) throw new Error(`could not sign in as ${user.email}`);
    return new BrowserLike(session, g.url, proxyUrl, recorder, workspaceHost);
  }

  static anonymous(g: GantryEnv, proxyUrl: string, recorder: Recorder, workspaceHost?: string): BrowserLike {
    return new BrowserLike(null, g.url, proxyUrl, recorder, workspaceHost);
  }

  /** A request to the dashboard, with the session cookie if signed in. */
  async dash(path: string, init: RequestInit = {}): Promise<Fetched> {
    const res = this.dashboard ? await this.dashboard.fetch(path, init) : await fetch(this.dashboardUrl + path, { redirect: "manual", ...init });
    const text = await this.recorder.response(`dashboard ${init.method ?? "GET"} ${path}`, res);
    return { res, status: res.status, text, location: res.headers.get("location") };
  }

  /** A request to the proxy's origin (path or absolute proxy URL), with this browser's proxy cookies. */
  async proxy(pathOrUrl: string, init: RequestInit & { extraCookie?: string } = {}): Promise<Fetched> {
    const id = /^\/w\/(ws[0-9a-f]{20})/.exec(pathOrUrl)?.[1];
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : (id ? this.originOf(id) : this.proxyUrl) + pathOrUrl;
    const { extraCookie, ...rest } = init;
    const headers = new Headers(rest.headers);
    const cookie = [this.proxyJar.header(), extraCookie].filter(Boolean).join("; ");
    if (cookie && !headers.has("cookie")) headers.set("cookie", cookie);
    const res = await fetch(url, { redirect: "manual", ...rest, headers });
    this.proxyJar.store(res);
    const text = await this.recorder.response(`proxy ${rest.method ?? "GET"} ${new URL(url).pathname}`, res);
    return { res, status: res.status, text, location: res.headers.get("location") };
  }

  /** GET /open/<id>[?state=…&next=…] on the dashboard. */
  async openOnDashboard(workspaceId: string, next?: string, state?: string): Promise<Fetched> {
    const query = new URLSearchParams();
    if (state !== undefined) query.set("state", state);
    if (next !== undefined) query.set("next", next);
    return this.dash(`/open/${workspaceId}${query.size ? `?${query}` : ""}`);
  }

  /**
   * The proxy's first step: _gantry/start sets this browser's handshake nonce (a cookie on the proxy) and sends it
   * to the dashboard's /open/<id> with the nonce as `state`. Returns that state and the URL it was sent to.
   */
  async startOnProxy(workspaceId: string, next?: string): Promise<{ state: string; open: URL }> {
    const start = await this.proxy(`${this.originOf(workspaceId)}/w/${workspaceId}/_gantry/start${next === undefined ? "" : `?next=${encodeURIComponent(next)}`}`);
    const open = start.location ? new URL(start.location) : null;
    const state = open?.searchParams.get("state");
    if (start.status !== 302 || !open || !state) throw new Error(`_gantry/start answered ${start.status} (location ${start.location}): ${start.text.slice(0, 300)}`);
    return { state, open };
  }

  /** A fresh grant URL for this browser: its handshake started on the proxy, then /open/<id> with that state. */
  async grantUrl(workspaceId: string, next?: string): Promise<URL> {
    const { state } = await this.startOnProxy(workspaceId);
    const open = await this.openOnDashboard(workspaceId, next, state);
    if (open.status < 300 || open.status > 399 || !open.location) {
      throw new Error(`GET /open/${workspaceId} answered ${open.status} (location ${open.location}): ${open.text.slice(0, 300)}`);
    }
    const grantUrl = new URL(open.location, this.dashboardUrl);
    if (!grantUrl.toString().startsWith(`${this.originOf(workspaceId)}/w/${workspaceId}/_gantry/grant?`)) {
      throw new Error(`GET /open/${workspaceId} sent the browser to ${grantUrl}, not to the proxy's grant URL`);
    }
    return grantUrl;
  }

  /**
   * The whole handshake: the proxy's start, /open/<id> on the dashboard, then the grant URL on the proxy, which
   * sets the proxy's cookie. Throws (with what was answered) unless every step redirects as expected.
   */
  async handshake(workspaceId: string, next?: string): Promise<{ grantUrl: string; landing: string }> {
    const grantUrl = (await this.grantUrl(workspaceId, next)).toString();
    const grant = await this.proxy(grantUrl);
    if (grant.status !== 302 || !grant.location) throw new Error(`the grant URL answered ${grant.status}: ${grant.text.slice(0, 300)}`);
    return { grantUrl, landing: grant.location };
  }

  /** The origin a workspace is served on: the proxy URL, or its own host where workspaces have one. */
  originOf(workspaceId: string): string {
    return this.workspaceHost ? `http://${this.workspaceHost.replace("{id}", workspaceId)}` : this.proxyUrl;
  }
}

/** The value of one named cookie in a Set-Cookie list, with its attributes (lower-cased names). */
export function setCookieNamed(res: Response, name: string): { value: string; attrs: Record<string, string> } | null {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(";");
    const eq = pair.indexOf("=");
    if (pair.slice(0, eq).trim() !== name) continue;
    return {
      value: pair.slice(eq + 1).trim(),
      attrs: Object.fromEntries(
        attrs.map((a) => {
          const i = a.indexOf("=");
          return i < 0 ? [a.trim().toLowerCase(), ""] : [a.slice(0, i).trim().toLowerCase(), a.slice(i + 1).trim()];
        }),
      ),
    };
  }
  return null;
}

/** A Jupyter messaging protocol v5 message, as notebook 6 takes it over the kernel WebSocket (JSON text frame). */
export function jupyterMessage(msgType: string, content: Record<string, unknown>, session: string, channel = "shell") {
  return {
    header: {
      msg_id: crypto.randomUUID(),
      username: "gantry-test",
      session,
      msg_type: msgType,
      version: "5.3",
      date: new Date().toISOString(),
    },
    parent_header: {},
    metadata: {},
    content,
    buffers: [],
    channel,
  };
}

/**
 * A workspace whose pages are the attacker's (tests/fixtures/hostile-workspace.py): its server answers with the
 * headers a workspace could use against the browser. The script is written into the user's /workspace volume from
 * a first busybox workspace (deleted again; the volume stays), then run as a catalog image's start command.
 */
export async function launchHostileWorkspace(
  g: GantryEnv,
  user: { token: string },
  opts: { busyboxImageId: string; otherWorkspaceId: string; name?: string },
): Promise<any> {
  const script = fs.readFileSync(path.join(REPO_ROOT, "tests", "fixtures", "hostile-workspace.py")).toString("base64");
  const seed = await g.api("/api/workspaces", { token: user.token, json: { name: unique("seed"), imageId: opts.busyboxImageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
  if (seed.status !== 201) throw new Error(`launching the seed workspace answered ${seed.status}: ${seed.text}`);
  const wrote = await exec(seed.body.containerId, ["sh", "-c", `echo ${script} | base64 -d > /workspace/hostile.py && echo ${opts.otherWorkspaceId} > /workspace/hostile-other`]);
  if (wrote.exitCode !== 0) throw new Error(`writing the hostile script failed: ${wrote.stderr}`);
  const del = await g.api(`/api/workspaces/${seed.body.id}`, { method: "DELETE", token: user.token });
  if (del.status !== 204) throw new Error(`deleting the seed workspace answered ${del.status}: ${del.text}`);
  const imageId = await g.addImage({ name: unique("hostile"), ref: JUPYTER_IMAGE, command: "python3 /workspace/hostile.py {port}" });
  const launched = await g.api("/api/workspaces", { token: user.token, json: { name: opts.name ?? unique("hostile"), imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
  if (launched.status !== 201) throw new Error(`launching the hostile workspace answered ${launched.status}: ${launched.text}`);
  return launched.body;
}
