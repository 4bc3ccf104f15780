import type Docker from "dockerode";
import { callDocker, dockerStatus, dockerWithExtraTime } from "./client";
import { LABEL, MANAGED_FILTER } from "./labels";
import { WORKSPACE_NETWORK } from "./names";

// Every operation treats Docker's "already done" answers (304 not modified, 404 gone) as success,
// so each action can be repeated safely (the dockerspawner model).

export type ContainerState = {
  id: string;
  running: boolean;
  status: string; // created | running | paused | restarting | removing | exited | dead
  oomKilled: boolean;
  exitCode: number;
  error: string;
  startedAt: string;
  finishedAt: string;
  workspaceId: string | null;
  gpuUuids: string[];
  ipAddress: string | null;
};

function toState(info: Docker.ContainerInspectInfo): ContainerState {
  const requests = (info.HostConfig as { DeviceRequests?: { DeviceIDs?: string[] }[] }).DeviceRequests ?? [];
  const networks = info.NetworkSettings?.Networks ?? {};
  return {
    id: info.Id,
    running: info.State.Running,
    status: info.State.Status,
    oomKilled: info.State.OOMKilled,
    exitCode: info.State.ExitCode,
    error: info.State.Error ?? "",
    startedAt: info.State.StartedAt,
    finishedAt: info.State.FinishedAt,
    workspaceId: info.Config.Labels?.[LABEL.workspace] ?? null,
    gpuUuids: requests.flatMap((r) => r.DeviceIDs ?? []),
    ipAddress: networks[WORKSPACE_NETWORK]?.IPAddress || null,
  };
}

export async function inspectContainer(idOrName: string): Promise<ContainerState | null> {
  return callDocker(async (d) => {
    try {
      const info = await d.getContainer(idOrName).inspect();
      if (info.Config.Labels?.[LABEL.managed] !== "true") return null;
      return toState(info);
    } catch (e) {
      if (dockerStatus(e) === 404) return null;
      throw e;
    }
  });
}

export async function createContainer(spec: Docker.ContainerCreateOptions): Promise<string> {
  return callDocker(async (d) => (await d.createContainer(spec)).id);
}

export async function startContainer(id: string): Promise<void> {
  await callDocker(async (d) => {
    try {
      await d.getContainer(id).start();
    } catch (e) {
      if (dockerStatus(e) !== 304) throw e;
    }
  });
}

export async function stopContainer(id: string, timeoutS = 10): Promise<void> {
  // Docker waits up to timeoutS for the process to exit before killing it; the request must outlast that wait.
  await callDocker(async () => {
    try {
      await dockerWithExtraTime(timeoutS * 1000).getContainer(id).stop({ t: timeoutS });
    } catch (e) {
      const status = dockerStatus(e);
      if (status !== 304 && status !== 404) throw e;
    }
  });
}

export async function removeContainer(id: string): Promise<void> {
  await callDocker(async (d) => {
    try {
      await d.getContainer(id).remove({ force: true, v: false });
    } catch (e) {
      const status = dockerStatus(e);
      // 409: removal already in progress.
      if (status !== 404 && status !== 409) throw e;
    }
  });
}

export type ManagedContainer = { id: string; name: string; workspaceId: string | null; state: string };

export async function listManagedContainers(): Promise<ManagedContainer[]> {
  return callDocker(async (d) => {
    const list = await d.listContainers({ all: true, filters: MANAGED_FILTER });
    return list.map((c) => ({
      id: c.Id,
      name: (c.Names[0] ?? "").replace(/^\//, ""),
      workspaceId: c.Labels?.[LABEL.workspace] ?? null,
      state: c.State,
    }));
  });
}

export async function containerLogs(id: string, tail: number): Promise<string> {
  return callDocker(async (d) => {
    try {
      const buf = (await d.getContainer(id).logs({ stdout: true, stderr: true, tail, timestamps: false, follow: false })) as unknown as Buffer;
      return demux(buf);
    } catch (e) {
      if (dockerStatus(e) === 404) return "";
      throw e;
    }
  });
}

// Non-TTY logs come framed: 8-byte header (stream, 0, 0, 0, size BE32) then the payload.
export function demux(buf: Buffer): string {
  const out: Buffer[] = [];
  let i = 0;
  while (i + 8 <= buf.length) {
    const size = buf.readUInt32BE(i + 4);
    if (buf[i] > 2 || buf[i + 1] !== 0) return buf.toString("utf8");
    out.push(buf.subarray(i + 8, i + 8 + size));
    i += 8 + size;
  }
  return Buffer.concat(out).toString("utf8");
}

export async function ensureVolume(name: string, labels: Record<string, string>): Promise<void> {
  await callDocker(async (d) => {
    try {
      await d.getVolume(name).inspect();
    } catch (e) {
      if (dockerStatus(e) !== 404) throw e;
      await d.createVolume({ Name: name, Labels: labels });
    }
  });
}

export async function removeVolume(name: string): Promise<void> {
  await callDocker(async (d) => {
    try {
      await d.getVolume(name).remove();
    } catch (e) {
      if (dockerStatus(e) !== 404) throw e;
    }
  });
}

/** A bridge network without inter-container traffic: workspaces reach the outside, not each other. */
export async function ensureWorkspaceNetwork(): Promise<void> {
  await callDocker(async (d) => {
    try {
      await d.getNetwork(WORKSPACE_NETWORK).inspect();
    } catch (e) {
      if (dockerStatus(e) !== 404) throw e;
      try {
        await d.createNetwork({
          Name: WORKSPACE_NETWORK,
          Driver: "bridge",
          CheckDuplicate: true,
          Labels: { [LABEL.managed]: "true" },
          Options: { "com.docker.network.bridge.enable_icc": "false" },
        });
      } catch (err) {
        if (dockerStatus(err) !== 409) throw err;
      }
    }
  });
}

export type HostResources = { memoryBytes: number; cpus: number };

export async function hostResources(): Promise<HostResources> {
  return callDocker(async (d) => {
    const info = await d.info();
    return { memoryBytes: info.MemTotal, cpus: info.NCPU };
  });
}
