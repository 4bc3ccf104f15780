import { describe, expect, it } from "vitest";
import { safeNextPath } from "./safe-next";

// What matters is where a browser ends up: the login form does window.location.assign(next) and the login page
// redirect(next)s, so the result, resolved against the dashboard's URL, must stay on the dashboard's host.
const BASE = "https://gantry.example";
function landsOn(next: string): string {
  return new URL(next, BASE).host;
}

describe("safeNextPath", () => {
  it.each([
    ["/", "/"],
    ["/settings", "/settings"],
    ["/admin/users?page=2#top", "/admin/users?page=2#top"],
    ["/login?next=%2Fsettings", "/login?next=%2Fsettings"],
    // Encoded slashes and backslashes stay encoded: browsers do not turn %5C or %2F into path separators.
    ["/%5Cevil.com", "/%5Cevil.com"],
    ["/%2F%2Fevil.com", "/%2F%2Fevil.com"],
    // A scheme-looking first segment is just a path once it starts with "/".
    ["/javascript:alert(1)", "/javascript:alert(1)"],
  ])("keeps the same-site path %j", (input, expected) => {
    expect(safeNextPath(input)).toBe(expected);
    expect(landsOn(safeNextPath(input))).toBe("gantry.example");
  });

  it.each([
    ["protocol-relative", "//evil.com"],
    ["protocol-relative with path", "//evil.com/login"],
    ["absolute https", "https://other.example/"],
    ["absolute http", "http://evil.com"],
    ["backslash after slash", "/\\evil.com"],
    ["two backslashes", "\\\\evil.com"],
    ["javascript: URL", "javascript:alert(document.cookie)"],
    ["mixed-case javascript: URL", "JaVaScRiPt:alert(1)"],
    ["data: URL", "data:text/html,<script>alert(1)</script>"],
    ["relative path", "settings"],
    ["leading space", " /settings"],
    ["tab inside //", "/\t/evil.com"],
    ["newline inside //", "/\n/evil.com"],
    ["carriage return inside //", "/\r/evil.com"],
    ["leading tab", "\t//evil.com"],
    ["NUL byte", "/\u0000/evil.com"],
    ["DEL", "/\u007f/evil.com"],
    ["backslash later in the path", "/a\\b"],
  ])("refuses %s", (_name, input) => {
    expect(safeNextPath(input)).toBe("/");
  });

  // "/./" and "/../" are removed by URL parsing, which can turn a single leading slash into two.
  it.each([
    ["a dot segment", "/.//evil.com"],
    ["a dot-dot segment", "/a/..//evil.com"],
    ["dot-dot past the root", "/foo/../..//evil.com"],
    ["an encoded dot-dot", "/%2e%2e//evil.com"],
    ["an encoded dot", "/%2e//evil.com"],
  ])("never yields a protocol-relative path from %s", (_name, input) => {
    const result = safeNextPath(input);
    expect(result.startsWith("//")).toBe(false);
    expect(landsOn(result)).toBe("gantry.example");
  });

  it.each([
    [null],
    [undefined],
    [""],
  ])("turns %j into /", (input) => {
    expect(safeNextPath(input)).toBe("/");
  });

  it("refuses values longer than 2000 characters and keeps one of exactly 2000", () => {
    const exactly = "/" + "a".repeat(1999);
    expect(safeNextPath(exactly)).toBe(exactly);
    expect(safeNextPath("/" + "a".repeat(2000))).toBe("/");
    expect(safeNextPath("/" + "a".repeat(1_000_000))).toBe("/");
  });

  it("percent-encodes characters a browser would otherwise reinterpret", () => {
    expect(safeNextPath("/a b")).toBe("/a%20b");
    expect(safeNextPath("/a\u2028b")).toBe("/a%E2%80%A8b");
  });
});
