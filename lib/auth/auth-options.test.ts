import { describe, expect, it } from "vitest";
import { safeRedirect } from "./auth-options";

const BASE = "http://localhost:3000";

describe("safeRedirect (next-auth redirect callback)", () => {
  it.each([
    ["/", "http://localhost:3000/"],
    ["/settings", "http://localhost:3000/settings"],
    ["/admin/users?page=2#top", "http://localhost:3000/admin/users?page=2#top"],
    ["http://localhost:3000/login", "http://localhost:3000/login"],
    ["http://localhost:3000/x?y=1#z", "http://localhost:3000/x?y=1#z"],
  ])("keeps the same-origin target %j", (url, expected) => {
    expect(safeRedirect(url, BASE)).toBe(expected);
  });

  it.each([
    ["protocol-relative", "//evil.com"],
    ["protocol-relative on our origin's path", "http://localhost:3000//evil.com"],
    ["another host", "https://evil.com/"],
    ["our origin as userinfo", "http://localhost:3000@evil.com/"],
    ["another port", "http://localhost:30000/"],
    ["another scheme", "https://localhost:3000/"],
    ["backslash", "/\\evil.com"],
    ["backslash on our origin", "http://localhost:3000/\\evil.com"],
    ["tab inside //", "/\t/evil.com"],
    ["newline", "/\nx"],
    ["javascript: URL", "javascript:alert(1)"],
    ["relative path", "settings"],
    ["empty", ""],
    ["unparseable", "http://[::1"],
  ])("falls back to the base URL for %s", (_name, url) => {
    expect(safeRedirect(url, BASE)).toBe(BASE);
  });

  it.each(["/.//evil.com", "/a/..//evil.com", "/%2e%2e//evil.com", "http://localhost:3000/.//evil.com"])(
    "resolves dot segments without leaving the origin: %j",
    (url) => {
      expect(new URL(safeRedirect(url, BASE)).origin).toBe(BASE);
    },
  );

  it("falls back to the base URL when the base itself is not a URL", () => {
    expect(safeRedirect("/x", "not a url")).toBe("not a url");
  });
});
