import { describe, expect, it } from "vitest";
import { filterWorkspaceHeaders, workspaceSetCookie } from "./response-headers";

const ID = "ws0123456789abcdef0123";

describe("workspaceSetCookie", () => {
  it("keeps a cookie whose every Path lies inside /w/<id>/", () => {
    expect(workspaceSetCookie(`_xsrf=abc; Path=/w/${ID}/`, ID)).toBe(`_xsrf=abc; Path=/w/${ID}/`);
    expect(workspaceSetCookie(`a=1; path=/w/${ID}/lab; HttpOnly`, ID)).toBe(`a=1; path=/w/${ID}/lab; HttpOnly`);
    expect(workspaceSetCookie(`a=1; Path=/w/${ID}`, ID)).toBe(`a=1; Path=/w/${ID}`);
  });

  it("gives a cookie without a Path the workspace's own", () => {
    expect(workspaceSetCookie("a=1; HttpOnly", ID)).toBe(`a=1; HttpOnly; Path=/w/${ID}/`);
    expect(workspaceSetCookie("a=1", ID)).toBe(`a=1; Path=/w/${ID}/`);
  });

  it.each([
    ["a Path of /", "a=1; Path=/"],
    ["a Path outside the workspace", "a=1; Path=/w/"],
    ["another workspace's Path", "a=1; Path=/w/ws99999999999999999999/"],
    ["a Path that only starts with the id", `a=1; Path=/w/${ID}x/`],
    ["a Path with dot segments", `a=1; Path=/w/${ID}/../`],
    ["an encoded Path", `a=1; Path=/w/${ID}/%2e%2e/`],
    ["a second, wider Path", `a=1; Path=/w/${ID}/; Path=/`],
    ["any Domain", `a=1; Path=/w/${ID}/; Domain=127.0.0.1`],
    ["an empty Domain", `a=1; Path=/w/${ID}/; domain=`],
    ["the dashboard's session cookie", `next-auth.session-token=x; Path=/w/${ID}/`],
    ["a secure next-auth cookie", `__Secure-next-auth.session-token=x; Path=/w/${ID}/`],
    ["next-auth's CSRF cookie", `next-auth.csrf-token=x; Path=/w/${ID}/`],
    ["a proxy cookie (its own name)", `gantry_proxy_${ID}=x; Path=/w/${ID}/`],
    ["a handshake cookie", `gantry_handshake_${ID}=x; Path=/w/${ID}/_gantry/`],
    ["a prefixed cookie", "__Host-a=1; Path=/; Secure"],
    ["a nameless cookie", "justavalue"],
    ["an empty name", `=1; Path=/w/${ID}/`],
    ["a name in other case", `GANTRY_proxy_x=1; Path=/w/${ID}/`],
  ])("drops %s", (_what, line) => {
    expect(workspaceSetCookie(line, ID)).toBeNull();
  });
});

describe("filterWorkspaceHeaders", () => {
  it("never relays Service-Worker-Allowed or Clear-Site-Data, keeps the rest, and filters each Set-Cookie", () => {
    const input = {
      "content-type": "text/html",
      "service-worker-allowed": "/",
      "clear-site-data": '"cookies", "storage"',
      "set-cookie": ["next-auth.session-token=evil; Path=/", `ok=1; Path=/w/${ID}/`],
    };
    expect(filterWorkspaceHeaders(input, ID)).toEqual({ "content-type": "text/html", "set-cookie": [`ok=1; Path=/w/${ID}/`] });
    expect(input["service-worker-allowed"]).toBe("/");
  });

  it("removes Set-Cookie altogether when no cookie passes", () => {
    expect(filterWorkspaceHeaders({ "set-cookie": ["a=1; Path=/"] }, ID)).toEqual({});
  });
});
