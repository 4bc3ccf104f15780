import { afterEach, describe, expect, it, vi } from "vitest";
import { clientAddress, REMOTE_ADDR_HEADER } from "./client-address";

afterEach(() => {
  vi.unstubAllEnvs();
});

function headers(peer: string | undefined, forwardedFor?: string): Headers {
  const h = new Headers();
  if (peer !== undefined) h.set(REMOTE_ADDR_HEADER, peer);
  if (forwardedFor !== undefined) h.set("x-forwarded-for", forwardedFor);
  return h;
}

describe("clientAddress without trusted proxies", () => {
  it("is the socket peer, whatever X-Forwarded-For says", () => {
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", undefined);
    expect(clientAddress(headers("198.51.100.9", "203.0.113.7"))).toBe("198.51.100.9");
    expect(clientAddress(headers("198.51.100.9", "127.0.0.1"))).toBe("198.51.100.9");
  });

  it("strips the IPv4-mapped IPv6 prefix", () => {
    expect(clientAddress(headers("::ffff:10.0.0.5"))).toBe("10.0.0.5");
    expect(clientAddress(headers("::1"))).toBe("::1");
  });

  it("is 'unknown' without the server-set peer header", () => {
    expect(clientAddress(headers(undefined, "203.0.113.7"))).toBe("unknown");
  });

  it("accepts Node's plain header records, including repeated headers", () => {
    expect(clientAddress({ [REMOTE_ADDR_HEADER]: "198.51.100.9", "x-forwarded-for": "203.0.113.7" })).toBe("198.51.100.9");
    expect(clientAddress({ [REMOTE_ADDR_HEADER]: ["198.51.100.9", "1.1.1.1"] })).toBe("198.51.100.9");
  });
});

describe("clientAddress behind GANTRY_TRUSTED_PROXIES", () => {
  it("believes X-Forwarded-For only from a configured proxy", () => {
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", "10.0.0.1");
    expect(clientAddress(headers("10.0.0.1", "203.0.113.7"))).toBe("203.0.113.7");
    expect(clientAddress(headers("10.0.0.2", "203.0.113.7"))).toBe("10.0.0.2");
  });

  it("takes the nearest untrusted hop, so a client cannot pick its address by prepending one", () => {
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", "10.0.0.1");
    expect(clientAddress(headers("10.0.0.1", "1.2.3.4, 203.0.113.7"))).toBe("203.0.113.7");
  });

  it("skips every configured proxy in a chain", () => {
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", " 10.0.0.1 , 10.0.0.2 ,");
    expect(clientAddress(headers("10.0.0.1", "1.2.3.4, 203.0.113.7, 10.0.0.2"))).toBe("203.0.113.7");
  });

  it("normalizes IPv4-mapped addresses on both sides", () => {
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", "::ffff:10.0.0.1");
    expect(clientAddress(headers("10.0.0.1", "::ffff:203.0.113.7"))).toBe("203.0.113.7");
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", "10.0.0.1");
    expect(clientAddress(headers("::ffff:10.0.0.1", "203.0.113.7"))).toBe("203.0.113.7");
  });

  it("falls back to the proxy itself when the header is missing, empty or names only proxies", () => {
    vi.stubEnv("GANTRY_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2");
    expect(clientAddress(headers("10.0.0.1"))).toBe("10.0.0.1");
    expect(clientAddress(headers("10.0.0.1", " , "))).toBe("10.0.0.1");
    expect(clientAddress(headers("10.0.0.1", "10.0.0.2"))).toBe("10.0.0.1");
  });
});
