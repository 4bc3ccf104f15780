// The route walker's map of the app: every route handler file under app/ (found on disk, never a hand-kept list),
// the URL it serves, the HTTP methods it exports and the guard each export is wrapped in.
import fs from "node:fs";
import path from "node:path";
import { REPO_ROOT } from "./paths";

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** withPublic / withUser / withAdmin from lib/http/route.ts; "next-auth" for next-auth's own handler; "none" otherwise. */
export type Guard = "withPublic" | "withUser" | "withAdmin" | "next-auth" | "none";

export type RouteExport = { method: HttpMethod; guard: Guard; how: string };

export type RouteFile = {
  /** Relative to the repository root, e.g. app/api/workspaces/[id]/stop/route.ts */
  file: string;
  /** The URL pattern, e.g. /api/workspaces/[id]/stop */
  pattern: string;
  /** Dynamic segments in order, e.g. [{ name: "id", catchAll: false, after: "workspaces" }] */
  params: { name: string; catchAll: boolean; after: string }[];
  exports: RouteExport[];
  source: string;
};

function walk(dir: string, out: string[]): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (/^route\.(ts|tsx|js|mjs|jsx)$/.test(entry.name)) out.push(full);
  }
}

const GUARDS = new Set(["withPublic", "withUser", "withAdmin"]);

/** What a local binding is: `const x = withUser(` → withUser; `function x(` / `const x = async (` → none. */
function guardOfBinding(source: string, name: string): { guard: Guard; how: string } {
  const call = new RegExp(`(?:const|let|var)\\s+${name}\\s*(?::[^=]+)?=\\s*([A-Za-z_$][\\w$]*)\\s*\\(`).exec(source);
  if (call && GUARDS.has(call[1])) return { guard: call[1] as Guard, how: `const ${name} = ${call[1]}(…)` };
  if (call) return { guard: "none", how: `const ${name} = ${call[1]}(…)` };
  const alias = new RegExp(`(?:const|let|var)\\s+${name}\\s*=\\s*([A-Za-z_$][\\w$]*)\\s*;`).exec(source);
  if (alias && alias[1] !== name) return guardOfBinding(source, alias[1]);
  if (new RegExp(`function\\s+${name}\\s*\\(`).test(source)) return { guard: "none", how: `function ${name}` };
  return { guard: "none", how: `unresolved binding ${name}` };
}

/** The HTTP methods a route file exports, and how each is guarded (read from the source text). */
export function parseExports(source: string): RouteExport[] {
  const found = new Map<HttpMethod, RouteExport>();
  const isMethod = (m: string): m is HttpMethod => (HTTP_METHODS as readonly string[]).includes(m);
  // export const GET = withUser(…)  /  export const GET = handler;
  for (const m of source.matchAll(/export\s+const\s+([A-Z]+)\s*(?::[^=]+)?=\s*([A-Za-z_$][\w$]*)\s*(\()?/g)) {
    if (!isMethod(m[1])) continue;
    if (m[3] && GUARDS.has(m[2])) found.set(m[1], { method: m[1], guard: m[2] as Guard, how: `export const ${m[1]} = ${m[2]}(…)` });
    else if (m[3]) found.set(m[1], { method: m[1], guard: "none", how: `export const ${m[1]} = ${m[2]}(…)` });
    else found.set(m[1], { method: m[1], ...guardOfBinding(source, m[2]) });
  }
  // export async function GET(…) / export function POST(…)
  for (const m of source.matchAll(/export\s+(?:async\s+)?function\s+([A-Z]+)\s*\(/g)) {
    if (isMethod(m[1])) found.set(m[1], { method: m[1], guard: "none", how: `export function ${m[1]}` });
  }
  // export { handler as GET, handler as POST } (optionally `from "…"`, which is never resolved here)
  for (const m of source.matchAll(/export\s*\{([^}]*)\}\s*(from\s*["'][^"']+["'])?/g)) {
    for (const part of m[1].split(",").map((s) => s.trim()).filter(Boolean)) {
      const [local, exported] = part.split(/\s+as\s+/).map((s) => s.trim());
      const name = exported ?? local;
      if (!isMethod(name)) continue;
      found.set(name, m[2] ? { method: name, guard: "none", how: `re-export from elsewhere` } : { method: name, ...guardOfBinding(source, local) });
    }
  }
  return HTTP_METHODS.filter((m) => found.has(m)).map((m) => found.get(m)!);
}

/** Every route handler file under app/, with its URL pattern and guarded exports. */
export function discoverRoutes(root = REPO_ROOT): RouteFile[] {
  const files: string[] = [];
  walk(path.join(root, "app"), files);
  return files.sort().map((full) => {
    const file = path.relative(root, full).split(path.sep).join("/");
    const dirs = file.split("/").slice(1, -1).filter((seg) => !/^\(.*\)$/.test(seg) && !seg.startsWith("@"));
    const params: RouteFile["params"] = [];
    dirs.forEach((seg, i) => {
      const m = /^\[(\.\.\.)?([^\]]+)\]$/.exec(seg) ?? /^\[\[\.\.\.([^\]]+)\]\]$/.exec(seg);
      if (m) params.push({ name: m[2] ?? m[1], catchAll: seg.includes("..."), after: dirs[i - 1] ?? "" });
    });
    const source = fs.readFileSync(full, "utf8");
    let exports = parseExports(source);
    if (file === "app/api/auth/[...nextauth]/route.ts" && /NextAuth\(/.test(source)) {
      exports = exports.map((e) => (e.guard === "none" ? { ...e, guard: "next-auth" as Guard, how: `${e.how} (next-auth)` } : e));
    }
    return { file, pattern: "/" + dirs.join("/"), params, exports, source };
  });
}

/** Fills the pattern's dynamic segments from `values` (by parameter name; catch-alls take a path). */
export function fillPattern(route: RouteFile, values: Record<string, string>): string {
  return route.pattern.replace(/\[\[?(?:\.\.\.)?([^\]]+)\]?\]/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for [${name}] in ${route.pattern}`);
    return v;
  });
}
