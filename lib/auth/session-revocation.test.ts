import { describe, expect, it } from "vitest";
import { SESSION_MAX_AGE_S, newSessionClaims, sessionExpired } from "./session-revocation";

describe("session claims", () => {
  it("a new session gets a random id and its sign-in time in seconds", () => {
    const a = newSessionClaims(1_700_000_000_123);
    const b = newSessionClaims(1_700_000_000_123);
    expect(a.authTime).toBe(1_700_000_000);
    expect(a.sid).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(a.sid).not.toBe(b.sid);
  });

  it("a session ends SESSION_MAX_AGE_S after its sign-in, however often it was refreshed", () => {
    const signIn = 1_700_000_000_000;
    const claims = newSessionClaims(signIn);
    expect(sessionExpired(claims, signIn)).toBe(false);
    expect(sessionExpired(claims, signIn + SESSION_MAX_AGE_S * 1000)).toBe(false);
    expect(sessionExpired(claims, signIn + SESSION_MAX_AGE_S * 1000 + 1000)).toBe(true);
  });

  it("a session from before sign-in times were recorded is judged by its own expiry alone", () => {
    expect(sessionExpired({}, Date.now())).toBe(false);
    expect(sessionExpired({ authTime: "yesterday" }, Date.now())).toBe(false);
  });
});
