// Structured one-line logs. Fields named like secrets are masked, and long strings are cut, so neither a token
// nor an attacker-sized value ever reaches the log in full.
const SECRET_KEYS = /token|password|secret|hash|authorization|cookie/i;
const MAX_STRING = 200;

function clean(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return { name: value.name, message: clean(value.message, depth + 1) };
  if (typeof value === "string") return value.length > MAX_STRING ? value.slice(0, MAX_STRING) + "…" : value;
  if (value === null || typeof value !== "object" || depth > 3) return value;
  if (Array.isArray(value)) return value.slice(0, 20).map((v) => clean(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) ? "[redacted]" : clean(v, depth + 1);
  return out;
}

function write(level: "info" | "warn" | "error", message: string, fields?: Record<string, unknown>) {
  if (process.env.GANTRY_LOG === "silent") return;
  const line = JSON.stringify({ t: new Date().toISOString(), level, msg: message, ...(clean(fields ?? {}) as object) });
  (level === "error" ? console.error : console.log)(line);
}

export const log = {
  info: (m: string, f?: Record<string, unknown>) => write("info", m, f),
  warn: (m: string, f?: Record<string, unknown>) => write("warn", m, f),
  error: (m: string, f?: Record<string, unknown>) => write("error", m, f),
};
