import { describe, expect, it } from "vitest";
import { buildContainerSpec, renderCommand, type ContainerSpecInput } from "./container-spec";

// Every point of SECURITY.md's "Container baseline" (CIS Docker Benchmark, section 5), checked on the one builder.

const GiB = 1024 ** 3;
const GPU_A = "GPU-3f8a1c2e-6b4d-7e91-a0c5-2d7f9b8e4a61";
const GPU_B = "GPU-9c2e7b14-0d3a-5f86-b4e1-7a6c3d9f2b08";

function input(over: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    workspaceId: "ws0123456789abcdef0123",
    userId: "cuser000000000000000001",
    containerName: "gantry-alice-train-ws0123456789abcdef0123",
    image: "sha256:" + "a".repeat(64),
    user: { uid: 1000, gid: 1000 },
    commandTemplate: null,
    port: 8888,
    memoryGb: 4,
    cpus: 2,
    shmSizeGb: null,
    gpuUuids: [],
    jupyterToken: "f".repeat(64),
    dataPath: null,
    ...over,
  };
}

function env(spec: ReturnType<typeof buildContainerSpec>): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const e of spec.Env ?? []) {
    const eq = e.indexOf("=");
    const k = e.slice(0, eq);
    map.set(k, [...(map.get(k) ?? []), e.slice(eq + 1)]);
  }
  return map;
}

describe("buildContainerSpec: limits", () => {
  it("always sets memory, with swap equal to memory (no swap), CPUs as NanoCpus and a PID limit", () => {
    const hc = buildContainerSpec(input({ memoryGb: 1.5, cpus: 2.5 })).HostConfig!;
    expect(hc.Memory).toBe(1.5 * GiB);
    expect(hc.MemorySwap).toBe(hc.Memory);
    expect(hc.NanoCpus).toBe(2_500_000_000);
    expect(hc.PidsLimit).toBeGreaterThan(0);
    expect(hc.PidsLimit).toBeLessThanOrEqual(32768);
  });

  it("sizes /dev/shm to min(8 GiB, half the memory) by default", () => {
    expect(buildContainerSpec(input({ memoryGb: 4 })).HostConfig!.ShmSize).toBe(2 * GiB);
    expect(buildContainerSpec(input({ memoryGb: 3 })).HostConfig!.ShmSize).toBe(1.5 * GiB);
    expect(buildContainerSpec(input({ memoryGb: 16 })).HostConfig!.ShmSize).toBe(8 * GiB);
    expect(buildContainerSpec(input({ memoryGb: 64 })).HostConfig!.ShmSize).toBe(8 * GiB);
  });

  it("uses the admin's /dev/shm size when set, never more than the memory limit", () => {
    expect(buildContainerSpec(input({ memoryGb: 64, shmSizeGb: 16 })).HostConfig!.ShmSize).toBe(16 * GiB);
    expect(buildContainerSpec(input({ memoryGb: 4, shmSizeGb: 0.5 })).HostConfig!.ShmSize).toBe(0.5 * GiB);
    expect(buildContainerSpec(input({ memoryGb: 2, shmSizeGb: 16 })).HostConfig!.ShmSize).toBe(2 * GiB);
  });
});

describe("buildContainerSpec: privileges", () => {
  it("drops every capability, adds none, sets no-new-privileges, keeps the default seccomp and is not privileged", () => {
    const hc = buildContainerSpec(input()).HostConfig!;
    expect(hc.CapDrop).toEqual(["ALL"]);
    expect(hc.CapAdd ?? []).toEqual([]);
    expect(hc.SecurityOpt).toContain("no-new-privileges");
    expect((hc.SecurityOpt ?? []).filter((o: string) => /seccomp|apparmor|label/i.test(o))).toEqual([]);
    expect(hc.Privileged).toBe(false);
    expect(hc.Sysctls ?? {}).toEqual({});
  });

  it("shares no namespace with the host: network, PID, IPC, UTS, user, cgroup", () => {
    const hc = buildContainerSpec(input()).HostConfig!;
    expect(hc.NetworkMode).toBe("gantry-workspaces");
    // CgroupnsMode is newer than @types/dockerode's HostConfig.
    const cgroupns = (hc as { CgroupnsMode?: string }).CgroupnsMode;
    for (const mode of [hc.NetworkMode, hc.PidMode, hc.IpcMode, hc.UTSMode, hc.UsernsMode, cgroupns]) {
      expect(mode ?? "").not.toMatch(/^(host|container:)/);
    }
  });

  // Which uid an image's USER means is decided in container-user.ts (container-user.test.ts); the builder takes numbers.
  it("runs as the resolved user, in numbers", () => {
    expect(buildContainerSpec(input({ user: { uid: 1234, gid: 3000 } })).User).toBe("1234:3000");
    expect(buildContainerSpec(input({ user: { uid: 1000, gid: 100 } })).User).toBe("1000:100");
  });

  it.each([
    [{ uid: 0, gid: 0 }],
    [{ uid: 0, gid: 1000 }],
    [{ uid: 1234, gid: 0 }],
  ])("never runs as uid or gid 0, even if handed %j", (user) => {
    expect(buildContainerSpec(input({ user })).User).toBe("1000:1000");
  });

  it("has no host devices and no restart loop", () => {
    const hc = buildContainerSpec(input({ gpuUuids: [GPU_A] })).HostConfig!;
    expect(hc.Devices ?? []).toEqual([]);
    expect(hc.DeviceCgroupRules ?? []).toEqual([]);
    expect(hc.RestartPolicy?.Name ?? "no").toBe("no");
  });
});

describe("buildContainerSpec: GPUs", () => {
  it("requests exactly the allocated GPUs by UUID from the nvidia driver, with the gpu capability", () => {
    const spec = buildContainerSpec(input({ gpuUuids: [GPU_A, GPU_B] }));
    expect(spec.HostConfig!.DeviceRequests).toEqual([{ Driver: "nvidia", DeviceIDs: [GPU_A, GPU_B], Capabilities: [["gpu"]] }]);
    const e = env(spec);
    expect(e.get("NVIDIA_VISIBLE_DEVICES")).toEqual([`${GPU_A},${GPU_B}`]);
    expect(e.get("CUDA_VISIBLE_DEVICES")).toEqual([`${GPU_A},${GPU_B}`]);
  });

  it("never asks for a count or for all GPUs", () => {
    const [req] = buildContainerSpec(input({ gpuUuids: [GPU_A] })).HostConfig!.DeviceRequests!;
    expect(req.Count ?? 0).toBe(0);
    expect(req.DeviceIDs).toEqual([GPU_A]);
  });

  it("gives a container without GPUs no device request, and NVIDIA_VISIBLE_DEVICES=void over anything the image sets", () => {
    const spec = buildContainerSpec(input({ gpuUuids: [] }));
    expect(spec.HostConfig!.DeviceRequests ?? []).toEqual([]);
    const e = env(spec);
    // Set exactly once: an image's own NVIDIA_VISIBLE_DEVICES=all is overridden by the container's Env.
    expect(e.get("NVIDIA_VISIBLE_DEVICES")).toEqual(["void"]);
    expect(e.get("CUDA_VISIBLE_DEVICES")).toEqual([""]);
  });
});

describe("buildContainerSpec: identity, network and storage", () => {
  it("labels the container as Gantry's, with its workspace and user", () => {
    const spec = buildContainerSpec(input());
    expect(spec.Labels).toEqual({ "gantry.managed": "true", "gantry.workspace": "ws0123456789abcdef0123", "gantry.user": "cuser000000000000000001" });
    expect(spec.name).toBe("gantry-alice-train-ws0123456789abcdef0123");
    expect(spec.Image).toBe("sha256:" + "a".repeat(64));
  });

  it("publishes no port on the host", () => {
    const hc = buildContainerSpec(input()).HostConfig!;
    expect(hc.PortBindings ?? {}).toEqual({});
    expect(hc.PublishAllPorts ?? false).toBe(false);
  });

  it("mounts the user's volume at /workspace and no host directory when no /data path is set", () => {
    const spec = buildContainerSpec(input());
    const hc = spec.HostConfig!;
    expect(hc.Mounts).toEqual([{ Type: "volume", Source: "gantry-home-cuser000000000000000001", Target: "/workspace", ReadOnly: false }]);
    expect(hc.Binds ?? []).toEqual([]);
    expect(hc.VolumesFrom ?? []).toEqual([]);
    expect(spec.WorkingDir).toBe("/workspace");
  });

  it("binds the admin's /data path read-only, and only that", () => {
    const hc = buildContainerSpec(input({ dataPath: "/srv/datasets" })).HostConfig!;
    const binds = (hc.Mounts ?? []).filter((m) => m.Type === "bind");
    expect(binds).toEqual([{ Type: "bind", Source: "/srv/datasets", Target: "/data", ReadOnly: true }]);
    expect(JSON.stringify(hc)).not.toContain("docker.sock");
  });

  it("passes the Jupyter token and port in the environment", () => {
    const e = env(buildContainerSpec(input({ port: 9999 })));
    expect(e.get("JUPYTER_TOKEN")).toEqual(["f".repeat(64)]);
    expect(e.get("JUPYTER_PORT")).toEqual(["9999"]);
  });
});

describe("buildContainerSpec: start command", () => {
  it("runs the image's own CMD when the catalog gives no command", () => {
    expect(buildContainerSpec(input({ commandTemplate: null })).Cmd).toBeUndefined();
  });

  it("renders {base_url} and {port} into an argument list, quotes respected, no shell", () => {
    const spec = buildContainerSpec(
      input({
        commandTemplate: `python3 -m notebook --ip=0.0.0.0 --port={port} --NotebookApp.base_url={base_url} --notebook-dir="/workspace/my notebooks"`,
        port: 8890,
      }),
    );
    expect(spec.Cmd).toEqual([
      "python3",
      "-m",
      "notebook",
      "--ip=0.0.0.0",
      "--port=8890",
      "--NotebookApp.base_url=/w/ws0123456789abcdef0123/",
      "--notebook-dir=/workspace/my notebooks",
    ]);
    expect(spec.Entrypoint).toBeUndefined();
  });

  it("renders every occurrence of a placeholder", () => {
    expect(renderCommand("serve {port} {port} {base_url}api", { base_url: "/w/x/", port: 1 })).toEqual(["serve", "1", "1", "/w/x/api"]);
  });

  it.each([
    ["&&", "jupyter lab && rm -rf /workspace"],
    ["|", "jupyter lab | tee log"],
    [";", "jupyter lab; curl evil"],
    ["&", "jupyter lab & sleep 1"],
    [">", "jupyter lab > /tmp/log"],
    ["<", "jupyter lab < /etc/passwd"],
    ["$( )", "jupyter lab --ip=$(hostname -i)"],
    ["a glob", "jupyter lab /workspace/*.ipynb"],
    ["a comment", "jupyter lab # --port={port}"],
  ])("refuses a template with %s", (_name, template) => {
    expect(() => buildContainerSpec(input({ commandTemplate: template }))).toThrow(/only contain words and quotes/);
  });

  it("refuses a $variable rather than silently replacing it with nothing", () => {
    // The error message promises "no $variables"; without a shell, $HOME would never be expanded anyway.
    expect(() => renderCommand("jupyter lab --notebook-dir=$HOME", { base_url: "/w/x/", port: 8888 })).toThrow(/only contain words and quotes/);
    expect(() => renderCommand("jupyter lab --notebook-dir=${HOME}/nb", { base_url: "/w/x/", port: 8888 })).toThrow(/only contain words and quotes/);
  });
});
