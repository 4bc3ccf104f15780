import { describe, expect, it } from "vitest";
import { pickWorkspace, shownUsername, workspaceRefFromUsername } from "./ssh-target";
import { hostAlias, knownHostsLine, sshConfigBlock } from "./ssh-config-block";

describe("the SSH user name selects a workspace", () => {
  const own = [
    { id: "cabc123", name: "train" },
    { id: "cdef456", name: "cabc123" },
  ];

  it("by id first, then by name", () => {
    expect(pickWorkspace(own, "cabc123")?.name).toBe("train");
    expect(pickWorkspace(own, "train")?.id).toBe("cabc123");
    expect(pickWorkspace(own, "cdef456")?.name).toBe("cabc123");
  });

  it("names nothing for an unknown, empty, overlong or control-character name", () => {
    expect(pickWorkspace(own, "other")).toBeNull();
    expect(workspaceRefFromUsername("   ")).toBeNull();
    expect(workspaceRefFromUsername("x".repeat(101))).toBeNull();
    expect(workspaceRefFromUsername("a\nb")).toBeNull();
    expect(workspaceRefFromUsername(" train ")).toBe("train");
  });

  it("shows a client's user name only cleaned and bounded", () => {
    expect(shownUsername("a\u001b[31mb")).toBe("a?[31mb");
    expect(shownUsername("y".repeat(500))).toHaveLength(101);
  });
});

describe("the ~/.ssh/config block", () => {
  it("names the workspace by id, on the gateway's host and port", () => {
    expect(sshConfigBlock({ host: "gpu.example.com", port: 2222 }, { id: "cxyz", name: "My Run #1" })).toBe(
      ["Host gantry-my-run-1", "  HostName gpu.example.com", "  Port 2222", "  User cxyz", "  IdentitiesOnly yes", "  # IdentityFile ~/.ssh/id_ed25519"].join("\n"),
    );
  });

  it("falls back to a plain alias and writes known_hosts with the port", () => {
    expect(hostAlias("###")).toBe("gantry-workspace");
    expect(knownHostsLine({ host: "h", port: 2222 }, "ssh-ed25519 AAAA")).toBe("[h]:2222 ssh-ed25519 AAAA");
    expect(knownHostsLine({ host: "h", port: 22 }, "ssh-ed25519 AAAA")).toBe("h ssh-ed25519 AAAA");
  });
});
