// Resolves every *.localhost name to the loopback address in the test process, as browsers do (RFC 6761; Chromium
// and Firefox never ask DNS for them) and as a wildcard DNS record does for per-workspace hosts in production. The
// C library here does not, so without this a test could not reach <id>.localhost the way a browser does. Used as a
// vitest setup file for the integration tests and imported by the Playwright helpers.
import dns from "node:dns";

type Callback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

const key = Symbol.for("gantry.test.localhost-names");
const g = globalThis as { [key]?: boolean };

if (!g[key]) {
  g[key] = true;
  const original = dns.lookup;
  const patched = function (hostname: string, options: unknown, callback?: unknown) {
    const cb = (typeof options === "function" ? options : callback) as Callback;
    const opts = (typeof options === "object" && options !== null ? options : {}) as dns.LookupOptions;
    if (typeof hostname === "string" && /(^|\.)localhost\.?$/i.test(hostname)) {
      process.nextTick(() => (opts.all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)));
      return;
    }
    return (original as (...args: unknown[]) => void).call(dns, hostname, options, callback);
  };
  (dns as { lookup: unknown }).lookup = patched;
}
