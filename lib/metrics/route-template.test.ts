import { describe, expect, it } from "vitest";
import { compileTemplates, methodLabel, NEXT_ASSETS_ROUTE, routeTemplateFor, templateOfEntry, UNMATCHED_ROUTE } from "./route-template";

// Keys as Next 16 writes them in .next/server/app-paths-manifest.json.
const MANIFEST = [
  "/_global-error/page",
  "/_not-found/page",
  "/page",
  "/login/page",
  "/admin/settings/page",
  "/api/[...slug]/route",
  "/api/auth/[...nextauth]/route",
  "/api/workspaces/route",
  "/api/workspaces/[id]/route",
  "/api/workspaces/[id]/stop/route",
  "/api/workspaces/[id]/logs/route",
  "/api/admin/users/[id]/quota/route",
  "/open/[id]/page",
  "/(marketing)/about/page",
  "/docs/[[...path]]/page",
  "/metrics/route",
];
const templates = compileTemplates([...MANIFEST.map(templateOfEntry).filter((t): t is string => t !== null), "/favicon.svg"]);
const route = (path: string) => routeTemplateFor(path, templates);

describe("manifest entries", () => {
  it("become URL templates; private folders and Next's own error pages serve no URL", () => {
    expect(templateOfEntry("/api/workspaces/[id]/stop/route")).toBe("/api/workspaces/[id]/stop");
    expect(templateOfEntry("/page")).toBe("/");
    expect(templateOfEntry("/(marketing)/about/page")).toBe("/about");
    expect(templateOfEntry("/@modal/x/page")).toBe("/x");
    expect(templateOfEntry("/_not-found/page")).toBeNull();
    expect(templateOfEntry("/_global-error/page")).toBeNull();
    expect(templateOfEntry("/admin/layout")).toBeNull();
  });
});

describe("a request path's route label", () => {
  it("is the template, never the path: ids are not in it", () => {
    expect(route("/api/workspaces/ws0123456789abcdef0123/stop")).toBe("/api/workspaces/[id]/stop");
    expect(route("/api/workspaces/ws0123456789abcdef0123")).toBe("/api/workspaces/[id]");
    expect(route("/api/admin/users/cabc123/quota")).toBe("/api/admin/users/[id]/quota");
    expect(route("/open/ws0123?next=/w/ws0123/tree")).toBe("/open/[id]");
  });

  it("prefers a static segment to a [param], and a [param] to a catch-all, as Next does", () => {
    expect(route("/api/workspaces")).toBe("/api/workspaces");
    expect(route("/api/workspaces/")).toBe("/api/workspaces");
    expect(route("/api/auth/callback/credentials")).toBe("/api/auth/[...nextauth]");
    expect(route("/api/nothing/here")).toBe("/api/[...slug]");
    expect(route("/api/workspaces/x/y/z/w")).toBe("/api/[...slug]");
    expect(route("/metrics")).toBe("/metrics");
  });

  it("handles the root, optional catch-alls and public files", () => {
    expect(route("/")).toBe("/");
    expect(route("/?x=1")).toBe("/");
    expect(route("/docs")).toBe("/docs/[[...path]]");
    expect(route("/docs/a/b")).toBe("/docs/[[...path]]");
    expect(route("/favicon.svg")).toBe("/favicon.svg");
  });

  it("puts every /_next asset under one label, and anything else under 'unmatched'", () => {
    expect(route("/_next/static/chunks/abc123.js")).toBe(NEXT_ASSETS_ROUTE);
    expect(route("/_next/image?url=x")).toBe(NEXT_ASSETS_ROUTE);
    expect(route("/wp-login.php")).toBe(UNMATCHED_ROUTE);
    expect(route("/login/extra")).toBe(UNMATCHED_ROUTE);
    expect(route(`/${"a".repeat(5000)}`)).toBe(UNMATCHED_ROUTE);
    expect(route("/api")).toBe(UNMATCHED_ROUTE);
  });
});

describe("the method label", () => {
  it("is a known method or 'other'", () => {
    expect(methodLabel("GET")).toBe("GET");
    expect(methodLabel("DELETE")).toBe("DELETE");
    expect(methodLabel("PROPFIND")).toBe("other");
    expect(methodLabel("get")).toBe("other");
    expect(methodLabel(undefined)).toBe("other");
  });
});
