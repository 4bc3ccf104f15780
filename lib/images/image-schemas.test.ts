import { describe, expect, it } from "vitest";
import { checkImageRef, imageInputSchema, imageRefSchema } from "./image-schemas";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const INVALID = /is not a valid image reference/;

describe("checkImageRef", () => {
  it.each([
    "pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime",
    "nvcr.io/nvidia/pytorch:24.08-py3",
    "ubuntu:22.04",
    `pytorch/pytorch@${DIGEST}`,
    `pytorch/pytorch:2.4.1@${DIGEST}`,
    // A digest pins the content, whatever the tag says.
    `pytorch/pytorch:latest@${DIGEST}`,
    "localhost:5000/team/jupyter:1.0",
    "127.0.0.1:5000/gantry/test-jupyter:1",
    "registry.example.com:5000/a/b/c:v2",
    "[::1]:5000/img:1",
    "my_org/my-image__x:1.0.0_rc1",
    "img:" + "a".repeat(128),
    // Tags are case-sensitive: "LATEST" is an ordinary tag, not the moving one.
    "img:LATEST",
  ])("accepts the pinned reference %s", (ref) => {
    expect(checkImageRef(ref)).toBeNull();
  });

  it.each(["pytorch/pytorch", "ubuntu", "localhost:5000/team/jupyter", "registry.example.com:5000/a/b"])(
    "refuses the unpinned reference %s",
    (ref) => {
      expect(checkImageRef(ref)).toBe("must be pinned: give a tag or a digest (never rely on 'latest')");
    },
  );

  it.each(["pytorch/pytorch:latest", "ubuntu:latest", "localhost:5000/x:latest"])("refuses the 'latest' tag in %s", (ref) => {
    expect(checkImageRef(ref)).toBe("must not use the 'latest' tag: pin a version");
  });

  it.each([
    ["an uppercase repository", "pytorch/PyTorch:2.4"],
    ["an uppercase single name", "UBUNTU:22.04"],
    ["an empty tag", "img:"],
    ["a tag starting with '-'", "img:-rc1"],
    ["a tag longer than 128", "img:" + "a".repeat(129)],
    ["no name", ":1"],
    ["a short digest", "img@sha256:abc"],
    ["an uppercase digest", "img@sha256:" + "A".repeat(64)],
    ["another digest algorithm", "img@md5:" + "a".repeat(32)],
    ["a leading space", " img:1"],
    ["a trailing space", "img:1 "],
    ["a newline", "img:1\n"],
    ["a shell command", "img:1;rm -rf /"],
    ["a command substitution", "img:$(id)"],
    ["a Docker flag", "--privileged"],
    ["a double slash", "a//b:1"],
    ["a trailing separator", "img-:1"],
    ["a scheme", "https://registry.example.com/img:1"],
    ["an empty string", ""],
    ["a name over 255 characters", "a" + "/b".repeat(130) + ":1"],
  ])("refuses %s", (_name, ref) => {
    expect(checkImageRef(ref)).toMatch(INVALID);
  });
});

describe("imageRefSchema / imageInputSchema", () => {
  it("trims before checking", () => {
    expect(imageRefSchema.parse("  ubuntu:22.04 \n")).toBe("ubuntu:22.04");
  });

  it("reports the problem on the ref field", () => {
    const r = imageInputSchema.safeParse({ name: "x", ref: "ubuntu:latest" });
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([["ref", "must not use the 'latest' tag: pin a version"]]);
  });

  it("fills defaults and refuses unknown fields such as privileged", () => {
    expect(imageInputSchema.parse({ name: " PyTorch ", ref: "pytorch/pytorch:2.4.1" })).toEqual({
      name: "PyTorch",
      ref: "pytorch/pytorch:2.4.1",
      description: "",
      port: 8888,
    });
    const r = imageInputSchema.safeParse({ name: "x", ref: "img:1", privileged: true });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ code: "unrecognized_keys", keys: ["privileged"] });
  });

  it.each([0, 65536, 1.5, -1, Number.NaN])("refuses port %s", (port) => {
    expect(imageInputSchema.safeParse({ name: "x", ref: "img:1", port }).success).toBe(false);
  });

  it("refuses a multi-line start command", () => {
    expect(imageInputSchema.safeParse({ name: "x", ref: "img:1", command: "jupyter lab\nrm -rf /" }).success).toBe(false);
    expect(imageInputSchema.safeParse({ name: "x", ref: "img:1", command: "jupyter lab --port {port}" }).success).toBe(true);
  });
});
