import { config } from "../config";

// Where a workspace is served. With a host pattern (GANTRY_PROXY_HOST_PATTERN, e.g. "{id}.ws.gantry.example.com", or
// "{id}.localhost" by default on a localhost dashboard; see config.proxyHostPattern) each workspace gets an origin of
// its own, <id>.ws.gantry.example.com, with the proxy URL's scheme and port: one workspace's pages can then not read
// another's, even in one browser. Without one, every workspace shares the proxy's origin (GANTRY_PROXY_URL, or the
// dashboard's host on GANTRY_PROXY_PORT) and is told apart by its path, /w/<id>/.

const PATTERN = /^\{id\}(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;

/** Why a GANTRY_PROXY_HOST_PATTERN value is unusable, or null when it is fine. */
export function hostPatternProblem(pattern: string): string | null {
  if (PATTERN.test(pattern.toLowerCase())) return null;
  return (
    `GANTRY_PROXY_HOST_PATTERN must be "{id}" followed by a domain, e.g. "{id}.ws.gantry.example.com" (got "${pattern}"). ` +
    "Point a wildcard DNS name (*.ws.gantry.example.com) at this server and set GANTRY_PROXY_URL to the scheme and port it is reached on."
  );
}

function pattern(): string | null {
  const p = config.proxyHostPattern;
  return p ? p.toLowerCase() : null;
}

/** Whether each workspace is served on an origin of its own (what admin access to other users' workspaces needs). */
export function perWorkspaceOrigins(): boolean {
  return pattern() !== null;
}

/** Why admins cannot be let into other users' workspaces here (shown by the settings API and page). */
export const ADMIN_ACCESS_NEEDS_ORIGINS =
  "Admin access to other users' workspaces needs an origin per workspace: set GANTRY_PROXY_HOST_PATTERN (e.g. \"{id}.ws.gantry.example.com\" with a wildcard DNS name), " +
  "or serve the dashboard on localhost. On one shared origin, a workspace's pages could act in every other workspace the admin opens.";

/**
 * Why serving workspaces here is weaker than it could be, or null: the proxy shares the dashboard's host name on
 * another port (cookies ignore ports, so a workspace's script can set cookies the dashboard receives).
 */
export function sharedHostWarning(): string | null {
  if (pattern()) return null;
  const proxyHost = new URL(config.proxyPublicUrl).hostname;
  if (proxyHost !== new URL(config.publicUrl).hostname) return null;
  return (
    `the workspace proxy shares the dashboard's host name (${proxyHost}); cookies ignore ports, so a workspace's script can set cookies the dashboard receives. ` +
    "Serve the proxy on a host name of its own (GANTRY_PROXY_URL), or give each workspace one (GANTRY_PROXY_HOST_PATTERN); see docs/security.md."
  );
}

/**
 * The origin (scheme://host[:port]) each workspace is served on, as a function: the configuration is read once, so a
 * list of a thousand workspaces does not parse the proxy URL a thousand times.
 */
export function workspaceOrigins(): (workspaceId: string) => string {
  const base = new URL(config.proxyPublicUrl);
  const p = pattern();
  if (!p) return () => base.origin;
  const slow = (workspaceId: string) => {
    const url = new URL(base);
    url.hostname = p.replace("{id}", workspaceId);
    return url.origin;
  };
  // The origin parsed once, with a marker where the id goes: workspace ids are lowercase letters and digits, which a
  // host name keeps as they are, so putting one in is a string replace (1000 URL parses cost ~3 ms).
  const marker = "gantryworkspaceid";
  const template = slow(marker);
  return (workspaceId) => (/^[a-z0-9]+$/.test(workspaceId) ? template.replace(marker, workspaceId) : slow(workspaceId));
}

/** The origin (scheme://host[:port]) a workspace is served on. */
export function workspaceOrigin(workspaceId: string): string {
  return workspaceOrigins()(workspaceId);
}

/**
 * Whether a request for /w/<workspaceId>/ came to that workspace's own host. Always true without a host pattern;
 * with one, a request for workspace B on workspace A's host (or on the bare proxy host) is not B's.
 */
export function onWorkspaceHost(hostHeader: string | undefined, workspaceId: string): boolean {
  const p = pattern();
  if (!p) return true;
  if (!hostHeader) return false;
  let hostname: string;
  try {
    hostname = new URL(`http://${hostHeader}`).hostname;
  } catch {
    return false;
  }
  return hostname === p.replace("{id}", workspaceId);
}
