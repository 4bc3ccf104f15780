import fs from "node:fs";
import path from "node:path";

// The `route` label of the request-duration histogram: the route *template* a path is served by
// (`/api/workspaces/[id]/stop`), never the path itself, so the label has as many values as the app has routes.
// Templates come from Next's build manifest of app routes (what `next start` serves), or from the app/ directory
// when there is no build (development), plus the files in public/.

/** Every path under /_next/ (bundles, images, Next's own data) shares one label. */
export const NEXT_ASSETS_ROUTE = "/_next/*";
/** A path no route serves: one label, whatever was asked for. */
export const UNMATCHED_ROUTE = "unmatched";

type SegmentKind = "static" | "dynamic" | "catchAll" | "optionalCatchAll";
type Segment = { kind: SegmentKind; text: string };
export type RouteTemplate = { template: string; segments: Segment[] };

// Lower is more specific: Next prefers a static segment to a [param], a [param] to a [...catchAll].
const RANK: Record<SegmentKind, number> = { static: 0, dynamic: 1, catchAll: 2, optionalCatchAll: 3 };

function parseSegment(seg: string): Segment {
  if (/^\[\[\.\.\.[^\]]+\]\]$/.test(seg)) return { kind: "optionalCatchAll", text: seg };
  if (/^\[\.\.\.[^\]]+\]$/.test(seg)) return { kind: "catchAll", text: seg };
  if (/^\[[^\]]+\]$/.test(seg)) return { kind: "dynamic", text: seg };
  return { kind: "static", text: seg };
}

/**
 * A manifest key (`/api/workspaces/[id]/stop/route`, `/admin/page`, `/(group)/x/page`) as the URL template it serves,
 * or null for what no URL reaches (`/_not-found/page`, private `_folders`).
 */
export function templateOfEntry(entry: string): string | null {
  const parts = entry.split("/").filter(Boolean);
  const last = parts.pop();
  if (last !== "page" && last !== "route") return null;
  // Route groups and parallel-route slots do not appear in the URL.
  const segments = parts.filter((p) => !/^\(.*\)$/.test(p) && !p.startsWith("@"));
  if (segments.some((p) => p.startsWith("_"))) return null;
  return "/" + segments.join("/");
}

export function compileTemplates(templates: Iterable<string>): RouteTemplate[] {
  const unique = [...new Set(templates)];
  return unique.map((template) => ({ template, segments: template.split("/").filter(Boolean).map(parseSegment) }));
}

function matches(t: RouteTemplate, parts: string[]): boolean {
  const segs = t.segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i];
    if (s.kind === "catchAll") return parts.length > i;
    if (s.kind === "optionalCatchAll") return true;
    if (i >= parts.length) return false;
    if (s.kind === "static" && s.text !== parts[i]) return false;
  }
  return parts.length === segs.length;
}

/** Negative when a is the more specific template (compared segment by segment, as Next orders its routes). */
function compareSpecificity(a: RouteTemplate, b: RouteTemplate): number {
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const ra = a.segments[i] ? RANK[a.segments[i].kind] : -1;
    const rb = b.segments[i] ? RANK[b.segments[i].kind] : -1;
    if (ra !== rb) return ra - rb;
  }
  return 0;
}

/** The template that serves `rawPath` (a request target: path, maybe a query), or a fixed label when none does. */
export function routeTemplateFor(rawPath: string, templates: RouteTemplate[]): string {
  const q = rawPath.indexOf("?");
  const pathname = q === -1 ? rawPath : rawPath.slice(0, q);
  if (pathname === "/_next" || pathname.startsWith("/_next/")) return NEXT_ASSETS_ROUTE;
  const parts = pathname.split("/").filter(Boolean);
  let best: RouteTemplate | null = null;
  for (const t of templates) {
    if (matches(t, parts) && (!best || compareSpecificity(t, best) < 0)) best = t;
  }
  return best ? best.template : UNMATCHED_ROUTE;
}

const HTTP_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** The `method` label: a known method, or "other" (a client may send any token as a method). */
export function methodLabel(method: string | undefined): string {
  return method && HTTP_METHODS.has(method) ? method : "other";
}

function walkFiles(dir: string, base: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = `${base}/${e.name}`;
    if (e.isDirectory()) walkFiles(path.join(dir, e.name), rel, out);
    else out.push(rel);
  }
}

/**
 * The app's templates: from `.next/server/app-paths-manifest.json` when there is a build (and not in development,
 * where the manifest only lists what has been compiled so far), else from the page and route files under app/.
 */
export function loadRouteTemplates(root: string, opts: { dev: boolean }): RouteTemplate[] {
  let entries: string[] | null = null;
  if (!opts.dev) {
    try {
      const manifest = JSON.parse(fs.readFileSync(path.join(root, ".next", "server", "app-paths-manifest.json"), "utf8")) as Record<string, string>;
      entries = Object.keys(manifest);
    } catch {
      entries = null;
    }
  }
  if (!entries) {
    const files: string[] = [];
    walkFiles(path.join(root, "app"), "", files);
    entries = files.filter((f) => /\/(page|route)\.(tsx?|jsx?|mjs)$/.test(f)).map((f) => f.replace(/\.(tsx?|jsx?|mjs)$/, ""));
  }
  const publicFiles: string[] = [];
  walkFiles(path.join(root, "public"), "", publicFiles);
  const templates = entries.map(templateOfEntry).filter((t): t is string => t !== null);
  return compileTemplates([...templates, ...publicFiles]);
}
