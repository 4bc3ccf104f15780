import { describe, expect, it } from "vitest";
import { hashMetricsToken, presentedBearer, tokenMatchesHash } from "./metrics-token";

describe("the presented bearer token", () => {
  it("is read from 'Authorization: Bearer <token>' only", () => {
    expect(presentedBearer("Bearer gnm_abc")).toBe("gnm_abc");
    expect(presentedBearer("bearer gnm_abc ")).toBe("gnm_abc");
    expect(presentedBearer("Basic dXNlcjpwdw==")).toBeNull();
    expect(presentedBearer("Bearer")).toBeNull();
    expect(presentedBearer("Bearer a b")).toBeNull();
    expect(presentedBearer("gnm_abc")).toBeNull();
    expect(presentedBearer(null)).toBeNull();
    expect(presentedBearer(`Bearer ${"x".repeat(600)}`)).toBeNull();
  });
});

describe("checking a token against the stored hash", () => {
  const token = "gnm_" + "k".repeat(43);
  const stored = hashMetricsToken(token);

  it("accepts the token whose SHA-256 is stored, and nothing else", () => {
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenMatchesHash(token, stored)).toBe(true);
    expect(tokenMatchesHash(token + "x", stored)).toBe(false);
    expect(tokenMatchesHash(token.slice(0, -1), stored)).toBe(false);
    expect(tokenMatchesHash("", stored)).toBe(false);
    // The hash itself is not a token.
    expect(tokenMatchesHash(stored, stored)).toBe(false);
  });

  it("refuses everything when the stored hash is damaged (no throw from the constant-time compare)", () => {
    expect(tokenMatchesHash(token, "")).toBe(false);
    expect(tokenMatchesHash(token, stored.slice(0, 10))).toBe(false);
    expect(tokenMatchesHash(token, "zz")).toBe(false);
  });
});
