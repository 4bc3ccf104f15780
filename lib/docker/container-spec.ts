import type Docker from "dockerode";
import { parse as parseShell } from "shell-quote";
import { baseUrlFor } from "../backend/base-url";
import { ApiError } from "../errors";
import type { WorkspaceSpec } from "../backend/types";
import type { NumericUser } from "./container-user";
import { workspaceLabels } from "./labels";
import { userVolumeName, WORKSPACE_NETWORK } from "./names";

// The one builder of every container Gantry creates (launch, start, reset, admin actions). Its input holds only
// values Gantry decided itself — the catalog's image, the allocation's GPUs, validated numbers — never raw request
// fields, so nothing dangerous can reach Docker from a request.

const GiB = 1024 ** 3;
export const PIDS_LIMIT = 4096;
export const WORKSPACE_MOUNT = "/workspace";
export const DATA_MOUNT = "/data";
export const FALLBACK_USER = "1000:1000";

/** The port's WorkspaceSpec with the image resolved to its id and user (what Docker's create takes). */
export type ContainerSpecInput = Omit<WorkspaceSpec, "name" | "image"> & {
  containerName: string;
  /** Image ID (sha256:…) resolved from the catalog. */
  image: string;
  /** The numeric user to run as, resolved from the image's USER (lib/docker/container-user.ts: never uid 0). */
  user: NumericUser;
};

export function shmBytes(memoryGb: number, shmSizeGb: number | null): number {
  const gb = shmSizeGb ?? Math.min(8, memoryGb / 2);
  return Math.floor(Math.min(gb, memoryGb) * GiB);
}

/** `uid:gid` in numbers; uid 0 or gid 0 here would be a bug upstream, so it falls back rather than trusting it. */
export function userSpec(user: NumericUser): string {
  return user.uid > 0 && user.gid > 0 ? `${user.uid}:${user.gid}` : FALLBACK_USER;
}

const COMMAND_RULE = "The start command may only contain words and quotes (no pipes, redirects, globs or $variables).";

export function renderCommand(template: string, vars: { base_url: string; port: number }): string[] {
  const filled = template.replaceAll("{base_url}", vars.base_url).replaceAll("{port}", String(vars.port));
  // shell-quote would expand $VAR to an empty string without a word; a command that needs a shell is refused.
  // An ApiError: the sentence is for users (describeFailure passes it on) and holds nothing of Docker's.
  if (/[$`]/.test(filled)) throw new ApiError("conflict", COMMAND_RULE);
  const words = parseShell(filled);
  if (words.some((w) => typeof w !== "string")) {
    // Operators, globs or comments would need a shell; the command runs directly, so refuse them outright.
    throw new ApiError("conflict", COMMAND_RULE);
  }
  return words as string[];
}

export function buildContainerSpec(input: ContainerSpecInput): Docker.ContainerCreateOptions {
  const memory = Math.floor(input.memoryGb * GiB);
  const gpus = input.gpuUuids;
  const mounts: Docker.MountConfig = [
    { Type: "volume", Source: userVolumeName(input.userId), Target: WORKSPACE_MOUNT, ReadOnly: false },
  ];
  if (input.dataPath) mounts.push({ Type: "bind", Source: input.dataPath, Target: DATA_MOUNT, ReadOnly: true });

  return {
    name: input.containerName,
    Image: input.image,
    Cmd: input.commandTemplate ? renderCommand(input.commandTemplate, { base_url: baseUrlFor(input.workspaceId), port: input.port }) : undefined,
    User: userSpec(input.user),
    WorkingDir: WORKSPACE_MOUNT,
    Env: [
      `JUPYTER_TOKEN=${input.jupyterToken}`,
      `GANTRY_WORKSPACE_ID=${input.workspaceId}`,
      `JUPYTER_PORT=${input.port}`,
      // Always set, so an image's own NVIDIA_VISIBLE_DEVICES=all can never widen what Gantry handed out.
      `NVIDIA_VISIBLE_DEVICES=${gpus.length ? gpus.join(",") : "void"}`,
      `CUDA_VISIBLE_DEVICES=${gpus.join(",")}`,
    ],
    Labels: workspaceLabels(input.workspaceId, input.userId),
    ExposedPorts: {},
    HostConfig: {
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(input.cpus * 1e9),
      PidsLimit: PIDS_LIMIT,
      ShmSize: shmBytes(input.memoryGb, input.shmSizeGb),
      CapDrop: ["ALL"],
      CapAdd: [],
      SecurityOpt: ["no-new-privileges"],
      Privileged: false,
      ReadonlyRootfs: false,
      NetworkMode: WORKSPACE_NETWORK,
      IpcMode: "private",
      PortBindings: {},
      PublishAllPorts: false,
      Mounts: mounts,
      Devices: [],
      DeviceRequests: gpus.length ? [{ Driver: "nvidia", DeviceIDs: gpus, Capabilities: [["gpu"]] }] : [],
      // Gantry decides restarts; an OOM-killed workspace must not loop.
      RestartPolicy: { Name: "no" },
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "2" } },
    },
  };
}
