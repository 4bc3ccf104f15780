import { config } from "../config";

/**
 * The dashboard's own origins: its public URL's, and the one the request's own Host names (an operator reaching it
 * by another name, e.g. its IP). A page elsewhere cannot borrow the Host trick for the user's cookie: a browser sends
 * a host's cookies only to that host, so another site's Host brings none of the dashboard's.
 */
export function isDashboardOrigin(origin: string | null | undefined, host: string | null | undefined, protocol: string): boolean {
  if (!origin) return false;
  const allowed = new Set([new URL(config.publicUrl).origin]);
  if (host) allowed.add(`${protocol}//${host}`);
  return allowed.has(origin);
}
