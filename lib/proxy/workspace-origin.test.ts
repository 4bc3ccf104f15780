import { afterEach, describe, expect, it } from "vitest";
import { hostPatternProblem, onWorkspaceHost, perWorkspaceOrigins, sharedHostWarning, workspaceOrigin, workspaceOrigins } from "./workspace-origin";

const ID = "ws0123456789abcdef0123";
const OTHER = "wsffffffffffffffffffff";
const saved = { ...process.env };

function env(vars: Record<string, string | undefined>): void {
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

afterEach(() => {
  for (const k of ["GANTRY_PROXY_HOST_PATTERN", "GANTRY_PROXY_URL", "GANTRY_PUBLIC_URL", "GANTRY_PROXY_PORT", "PORT"]) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
});

describe("hostPatternProblem", () => {
  it.each(["{id}.ws.example.com", "{ID}.WS.Example.com", "{id}.localhost", "{id}.gpu-1.lab.example"])("accepts %s", (p) => {
    expect(hostPatternProblem(p)).toBeNull();
  });

  it.each(["*.ws.example.com", "ws.example.com", "{id}", "ws-{id}.example.com", "{id}.{id}.example.com", "{id}.example.com:3001", "https://{id}.example.com", "{id}..example.com", "{id}.-bad.example.com", "{id}.ex ample.com"])(
    "refuses %s, saying what is expected",
    (p) => {
      expect(hostPatternProblem(p)).toMatch(/GANTRY_PROXY_HOST_PATTERN must be "\{id\}" followed by a domain/);
    },
  );
});

describe("workspaceOrigin and onWorkspaceHost", () => {
  it("without a pattern: every workspace on the proxy URL's origin, on any Host", () => {
    env({ GANTRY_PROXY_HOST_PATTERN: undefined, GANTRY_PROXY_URL: "https://ws.gantry.example.com" });
    expect(workspaceOrigin(ID)).toBe("https://ws.gantry.example.com");
    expect(onWorkspaceHost("ws.gantry.example.com", ID)).toBe(true);
    expect(onWorkspaceHost(undefined, ID)).toBe(true);
  });

  it("with a pattern: the workspace's own host, with the proxy URL's scheme and port", () => {
    env({ GANTRY_PROXY_HOST_PATTERN: "{id}.ws.gantry.example.com", GANTRY_PROXY_URL: "https://proxy.gantry.example.com" });
    expect(workspaceOrigin(ID)).toBe(`https://${ID}.ws.gantry.example.com`);
    env({ GANTRY_PROXY_URL: "http://proxy.local:3001" });
    expect(workspaceOrigin(ID)).toBe(`http://${ID}.ws.gantry.example.com:3001`);
  });

  it("workspaceOrigins (for lists) gives what a URL parse of each host gives, for any id and proxy URL", () => {
    for (const [pattern, url] of [["{id}.WS.Gantry.example.com", "https://proxy.gantry.example.com"], ["{id}.localhost", "http://127.0.0.1:3001"], ["{id}.lab", "https://p.lab:443"]]) {
      env({ GANTRY_PROXY_HOST_PATTERN: pattern, GANTRY_PROXY_URL: url });
      const originOf = workspaceOrigins();
      for (const id of [ID, OTHER, "c0", "Upper-Case", "gantryworkspaceid"]) {
        const parsed = new URL(url);
        parsed.hostname = pattern.toLowerCase().replace("{id}", id);
        expect(originOf(id)).toBe(parsed.origin);
      }
    }
  });

  it("with a pattern: only the workspace's own host is its host (any port, any case)", () => {
    env({ GANTRY_PROXY_HOST_PATTERN: "{id}.ws.gantry.example.com", GANTRY_PROXY_URL: "http://proxy.local:3001" });
    expect(onWorkspaceHost(`${ID}.ws.gantry.example.com:3001`, ID)).toBe(true);
    expect(onWorkspaceHost(`${ID.toUpperCase()}.WS.gantry.example.com`, ID)).toBe(true);
    for (const host of [`${OTHER}.ws.gantry.example.com:3001`, "proxy.local:3001", "127.0.0.1:3001", `${ID}.ws.gantry.example.com.evil.example`, `evil.${ID}.ws.gantry.example.com`, "", "bad host"]) {
      expect({ host, ok: onWorkspaceHost(host, ID) }).toEqual({ host, ok: false });
    }
    expect(onWorkspaceHost(undefined, ID)).toBe(false);
  });
});

describe("the defaults: <id>.localhost on a localhost dashboard, a shared origin elsewhere", () => {
  it("a localhost dashboard gives each workspace <id>.localhost on the proxy port", () => {
    env({ GANTRY_PROXY_HOST_PATTERN: undefined, GANTRY_PROXY_URL: undefined, GANTRY_PUBLIC_URL: "http://localhost:3000", GANTRY_PROXY_PORT: undefined, PORT: "3000" });
    expect(perWorkspaceOrigins()).toBe(true);
    expect(workspaceOrigin(ID)).toBe(`http://${ID}.localhost:3001`);
    expect(onWorkspaceHost(`${ID}.localhost:3001`, ID)).toBe(true);
    expect(onWorkspaceHost("127.0.0.1:3001", ID)).toBe(false);
    expect(sharedHostWarning()).toBeNull();
  });

  it("GANTRY_PROXY_HOST_PATTERN=none, or an explicit GANTRY_PROXY_URL, keeps one shared origin on localhost", () => {
    env({ GANTRY_PROXY_HOST_PATTERN: "none", GANTRY_PROXY_URL: undefined, GANTRY_PUBLIC_URL: "http://localhost:3000", PORT: "3000" });
    expect(perWorkspaceOrigins()).toBe(false);
    expect(workspaceOrigin(ID)).toBe("http://127.0.0.1:3001");
    env({ GANTRY_PROXY_HOST_PATTERN: undefined, GANTRY_PROXY_URL: "http://127.0.0.1:4000" });
    expect(perWorkspaceOrigins()).toBe(false);
  });

  it("a real host name shares one origin, and warns when that is the dashboard's own host name", () => {
    env({ GANTRY_PROXY_HOST_PATTERN: undefined, GANTRY_PROXY_URL: undefined, GANTRY_PUBLIC_URL: "https://gpu.example.org", PORT: "3000" });
    expect(perWorkspaceOrigins()).toBe(false);
    expect(sharedHostWarning()).toMatch(/shares the dashboard's host name \(gpu\.example\.org\)/);
    env({ GANTRY_PROXY_URL: "https://workspaces.example.org" });
    expect(sharedHostWarning()).toBeNull();
    env({ GANTRY_PROXY_URL: undefined, GANTRY_PROXY_HOST_PATTERN: "{id}.ws.example.org" });
    expect(sharedHostWarning()).toBeNull();
  });
});
