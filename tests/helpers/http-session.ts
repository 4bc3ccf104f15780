// A minimal cookie-keeping HTTP client for talking to a real Gantry server the way a browser session does.

export const SESSION_COOKIE = "next-auth.session-token";

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Takes the cookies a response sets (an expired or empty one removes the cookie). */
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => {
        const [k, v] = a.split("=").map((s) => s.trim().toLowerCase());
        return (k === "max-age" && Number(v) <= 0) || (k === "expires" && Date.parse(v) < Date.now());
      });
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  has(name: string): boolean {
    return this.cookies.has(name);
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

export type Session = {
  jar: CookieJar;
  /** fetch with the session's cookies (sent without an Origin header unless `init.headers` adds one). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
};

export function session(baseUrl: string): Session {
  const jar = new CookieJar();
  return {
    jar,
    async fetch(path, init = {}) {
      const headers = new Headers(init.headers);
      const cookie = jar.header();
      if (cookie) headers.set("cookie", cookie);
      const res = await fetch(baseUrl + path, { redirect: "manual", ...init, headers });
      jar.store(res);
      return res;
    },
  };
}

/**
 * Signs in through next-auth's credentials flow (GET /api/auth/csrf, then a form POST to
 * /api/auth/callback/credentials). `ok` is whether a session cookie was issued.
 */
export async function login(baseUrl: string, email: string, password: string): Promise<{ ok: boolean; session: Session }> {
  const s = session(baseUrl);
  const csrfRes = await s.fetch("/api/auth/csrf");
  if (csrfRes.status !== 200) throw new Error(`GET /api/auth/csrf answered ${csrfRes.status}`);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const res = await s.fetch("/api/auth/callback/credentials", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ csrfToken, email, password, json: "true" }).toString(),
  });
  await res.arrayBuffer();
  return { ok: s.jar.has(SESSION_COOKIE), session: s };
}
