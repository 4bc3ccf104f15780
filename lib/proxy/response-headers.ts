import type { IncomingHttpHeaders } from "node:http";

// A workspace's HTTP responses are the workspace owner's words, relayed on an origin that other workspaces (and, on
// a real host name, the dashboard's cookies) share: what a response may do to the browser beyond its own path is
// taken out here. Cookies ignore ports, so a `Set-Cookie` with `Path=/` or a `Domain` from a workspace could set or
// clear the dashboard's session or another workspace's proxy cookie; `Service-Worker-Allowed: /` would let a service
// worker see every later navigation on the proxy; `Clear-Site-Data` would wipe everybody's state there.

/** Cookies of the dashboard and of this proxy: never forwarded into a workspace, never set by one. */
export const PRIVATE_COOKIE = /^(__Secure-|__Host-)?next-auth\.|^gantry_|^__Host-/i;

const NEVER_RELAYED = ["service-worker-allowed", "clear-site-data"];

/**
 * The Set-Cookie line as the browser may have it, or null to drop it: it must name a cookie that is none of
 * Gantry's or next-auth's, carry no Domain, and have every Path inside /w/<id>/ (a cookie without one gets that
 * path: its default would be the request's directory, which for /w/<id> itself is /w).
 */
export function workspaceSetCookie(line: string, workspaceId: string): string | null {
  const [pair, ...attrs] = line.split(";");
  const eq = pair.indexOf("=");
  const name = eq < 0 ? "" : pair.slice(0, eq).trim();
  if (!name || PRIVATE_COOKIE.test(name)) return null;
  const root = `/w/${workspaceId}`;
  let hasPath = false;
  for (const attr of attrs) {
    const i = attr.indexOf("=");
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
    const value = i < 0 ? "" : attr.slice(i + 1).trim();
    if (key === "domain") return null;
    if (key === "path") {
      hasPath = true;
      if (!(value === root || value.startsWith(`${root}/`)) || /\.\.|%|\\/.test(value)) return null;
    }
  }
  return hasPath ? line : `${line}; Path=${root}/`;
}

/** The response headers a workspace may send the browser (a copy; the input is left as it was). */
export function filterWorkspaceHeaders(headers: IncomingHttpHeaders, workspaceId: string): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  for (const name of NEVER_RELAYED) delete out[name];
  const cookies = out["set-cookie"];
  if (cookies) {
    const kept = cookies.map((c) => workspaceSetCookie(c, workspaceId)).filter((c): c is string => c !== null);
    if (kept.length) out["set-cookie"] = kept;
    else delete out["set-cookie"];
  }
  return out;
}
