import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../errors";
import { describeFailure } from "./errors";

// A Docker error as dockerode builds it: the engine's HTTP status, and its text with ids, digests and paths.
function engineError(): Error {
  const e = new Error(
    "(HTTP code 400) unexpected - failed to create shim: OCI runtime create failed: runc create failed: unable to start container process: " +
      'exec: "/gantry-no-such-binary": stat /gantry-no-such-binary: no such file or directory: unknown ' +
      "container 3f9a2c1b7e4d5a6b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b image sha256:" + "ab".repeat(32) + " /var/run/docker.sock",
  ) as Error & { statusCode: number };
  e.statusCode = 400;
  return e;
}

let lines: string[];
beforeEach(() => {
  lines = [];
  vi.stubEnv("GANTRY_LOG", "");
  vi.spyOn(console, "error").mockImplementation((l: string) => void lines.push(l));
  vi.spyOn(console, "log").mockImplementation((l: string) => void lines.push(l));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

describe("describeFailure", () => {
  it("turns an engine error into a sentence and a reference, and logs the whole text under that reference", () => {
    const message = describeFailure(engineError(), "start the workspace", { workspaceId: "ws1" });
    const m = /^Docker could not start the workspace \(reference ([0-9a-f]{8})\)\.$/.exec(message);
    expect(m, message).not.toBeNull();
    expect(lines).toHaveLength(1);
    const logged = JSON.parse(lines[0]);
    expect(logged).toMatchObject({ level: "error", reference: m![1], workspaceId: "ws1", statusCode: 400 });
    const detail = (logged.detail as string[]).join("");
    expect(detail).toBe(engineError().message);
  });

  it("says nothing of what the engine said", () => {
    const message = describeFailure(engineError(), "create the container");
    for (const internal of [/HTTP code/, /OCI/, /runc/, /shim/, /sha256/, /[0-9a-f]{64}/, /docker\.sock/, /no-such-binary/, /\//]) {
      expect(message).not.toMatch(internal);
    }
  });

  it("gives each failure a reference of its own", () => {
    const a = describeFailure(engineError(), "start the workspace");
    const b = describeFailure(engineError(), "start the workspace");
    expect(a).not.toBe(b);
  });

  it("words one of Gantry's own failures as internal, with a reference too", () => {
    const message = describeFailure(new TypeError("Cannot read properties of undefined (reading 'Id')"), "reset the workspace");
    expect(message).toMatch(/^Gantry could not reset the workspace because of an internal error \(reference [0-9a-f]{8}\)\.$/);
    expect(lines.join("\n")).toContain("Cannot read properties of undefined");
  });

  it.each([
    ["a quota message", new ApiError("quota_exceeded", "GPUs: 2 requested, 1 left in your quota.")],
    ["an image missing from the catalog", new ApiError("validation_failed", "imageId: no such image in the catalog")],
    ["the engine unreachable", new ApiError("docker_unavailable", "The Docker engine is not reachable right now; nothing was changed. Try again shortly.")],
  ])("keeps %s as it is, and logs nothing", (_name, e) => {
    expect(describeFailure(e, "launch the workspace")).toBe(e.message);
    expect(lines).toEqual([]);
  });
});
