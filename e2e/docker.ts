import Docker from "dockerode";

// The specs look at Docker directly (never through Gantry) to check what really happened to a workspace.
export const docker = new Docker();

export async function containersOfWorkspace(workspaceId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({ all: true, filters: { label: [`gantry.managed=true`, `gantry.workspace=${workspaceId}`] } });
}

/** The one running container of a workspace; fails if there is none or more than one. */
export async function runningContainer(workspaceId: string): Promise<Docker.ContainerInfo> {
  const running = (await containersOfWorkspace(workspaceId)).filter((c) => c.State === "running");
  if (running.length !== 1) throw new Error(`expected one running container for ${workspaceId}, found ${running.length}`);
  return running[0];
}

/** Runs a command in a container as the container's own user, and returns its exit code and output. */
export async function execIn(containerId: string, cmd: string[]): Promise<{ exitCode: number; output: string }> {
  const container = docker.getContainer(containerId);
  const info = await container.inspect();
  const exec = await container.exec({ Cmd: cmd, User: info.Config.User || undefined, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const sink = { write: (c: Buffer) => chunks.push(Buffer.from(c)) };
  docker.modem.demuxStream(stream, sink as unknown as NodeJS.WritableStream, sink as unknown as NodeJS.WritableStream);
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
  });
  const { ExitCode } = await exec.inspect();
  return { exitCode: ExitCode ?? -1, output: Buffer.concat(chunks).toString("utf8") };
}

/** Removes the containers and /workspace volumes of the given users (what the specs made), by Gantry's labels. */
export async function removeUsersContainers(userIds: string[]): Promise<number> {
  let removed = 0;
  for (const userId of userIds) {
    const containers = await docker.listContainers({ all: true, filters: { label: [`gantry.managed=true`, `gantry.user=${userId}`] } });
    for (const c of containers) {
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      removed++;
    }
    await docker.getVolume(`gantry-home-${userId}`).remove({ force: true }).catch(() => {});
  }
  return removed;
}
