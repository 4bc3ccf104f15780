import { config } from "../config";

// The custom server (server.ts) overwrites this header with the socket's peer address on every request,
// so no client can set it.
export const REMOTE_ADDR_HEADER = "x-gantry-remote-addr";

type HeaderSource = { get(name: string): string | null } | Record<string, string | string[] | undefined>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === "function") return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

function normalize(addr: string): string {
  return addr.replace(/^::ffff:/, "");
}

/** The client's address: X-Forwarded-For is believed only when the peer is a configured trusted proxy. */
export function clientAddress(headers: HeaderSource): string {
  const peer = normalize(header(headers, REMOTE_ADDR_HEADER) ?? "unknown");
  const trusted = config.trustedProxies.map(normalize);
  if (trusted.includes(peer)) {
    const forwarded = header(headers, "x-forwarded-for");
    const hops = forwarded?.split(",").map((s) => normalize(s.trim())).filter(Boolean) ?? [];
    // Walk from the nearest hop back, skipping our own proxies: the first untrusted one is the client.
    for (let i = hops.length - 1; i >= 0; i--) {
      if (!trusted.includes(hops[i])) return hops[i];
    }
  }
  return peer;
}
