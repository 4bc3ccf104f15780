// Pieces of the workspace-proxy tests: a user with a password (to sign in like a browser), a browser-like client
// that keeps the dashboard's cookies and the proxy's cookies apart (they are different origins), the open/grant
// handshake, and a recorder of everything the servers answered, to search for secrets afterwards.
import crypto from "node:crypto";
import { CookieJar, login, type Session } from "./http-session";
import { cli, createTokenWithCli } from "./run-cli";
import { unique, type GantryEnv, type Seeded } from "./workspaces";

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
  ) {}

  static async signIn(g: GantryEnv, proxyUrl: string, user: { email: string; password: string }, recorder: Recorder): Promise<BrowserLike> {
    const { ok, session } = await login(g.url, user.email, user.password);
    if (!ok) throw new Error(`could not sign in as ${user.email}`);
    return new BrowserLike(session, g.url, proxyUrl, recorder);
  }

  static anonymous(g: GantryEnv, proxyUrl: string, recorder: Recorder): BrowserLike {
    return new BrowserLike(null, g.url, proxyUrl, recorder);
  }

  /** A request to the dashboard, with the session cookie if signed in. */
  async dash(path: string, init: RequestInit = {}): Promise<Fetched> {
    const res = this.dashboard ? await this.dashboard.fetch(path, init) : await fetch(this.dashboardUrl + path, { redirect: "manual", ...init });
    const text = await this.recorder.response(`dashboard ${init.method ?? "GET"} ${path}`, res);
    return { res, status: res.status, text, location: res.headers.get("location") };
  }

  /** A request to the proxy's origin (path or absolute proxy URL), with this browser's proxy cookies. */
  async proxy(pathOrUrl: string, init: RequestInit & { extraCookie?: string } = {}): Promise<Fetched> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : this.proxyUrl + pathOrUrl;
    const { extraCookie, ...rest } = init;
    const headers = new Headers(rest.headers);
    const cookie = [this.proxyJar.header(), extraCookie].filter(Boolean).join("; ");
    if (cookie && !headers.has("cookie")) headers.set("cookie", cookie);
    const res = await fetch(url, { redirect: "manual", ...rest, headers });
    this.proxyJar.store(res);
    const text = await this.recorder.response(`proxy ${rest.method ?? "GET"} ${new URL(url).pathname}`, res);
    return { res, status: res.status, text, location: res.headers.get("location") };
  }

  /** GET /open/<id>[?next=…] on the dashboard: for a permitted user, a redirect to the proxy's grant URL. */
  async openOnDashboard(workspaceId: string, next?: string): Promise<Fetched> {
    return this.dash(`/open/${workspaceId}${next === undefined ? "" : `?next=${encodeURIComponent(next)}`}`);
  }

  /**
   * The whole handshake: /open/<id> on the dashboard, then the grant URL on the proxy, which sets the proxy's
   * cookie. Throws (with what was answered) unless both steps redirect as expected.
   */
  async handshake(workspaceId: string, next?: string): Promise<{ grantUrl: string; landing: string }> {
    const open = await this.openOnDashboard(workspaceId, next);
    if (open.status < 300 || open.status > 399 || !open.location) {
      throw new Error(`GET /open/${workspaceId} answered ${open.status} (location ${open.location}): ${open.text.slice(0, 300)}`);
    }
    const grantUrl = new URL(open.location, this.dashboardUrl).toString();
    if (!grantUrl.startsWith(`${this.proxyUrl}/w/${workspaceId}/_gantry/grant?`)) {
      throw new Error(`GET /open/${workspaceId} sent the browser to ${grantUrl}, not to the proxy's grant URL`);
    }
    const grant = await this.proxy(grantUrl);
    if (grant.status !== 302 || !grant.location) throw new Error(`the grant URL answered ${grant.status}: ${grant.text.slice(0, 300)}`);
    return { grantUrl, landing: grant.location };
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
