import { callDocker, dockerStatus } from "./client";
import { decideUser, firstFileInTar, needsAccounts, type Accounts, type NumericUser } from "./container-user";
import { log } from "../log";

// An image's /etc/passwd and /etc/group, read from a container that is created from it and never started, then
// removed. An image id names fixed content, so what was read is kept for the life of the process: a launch pays for
// it once per image, and only when the image's USER is a name (or a uid without a group).

const PROBE_LABEL = "gantry.probe";
const cache = new Map<string, Promise<Accounts>>();

async function readFile(container: { getArchive(o: { path: string }): Promise<NodeJS.ReadableStream> }, path: string): Promise<string | null> {
  try {
    const stream = await container.getArchive({ path });
    const chunks: Buffer[] = [];
    for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
    return firstFileInTar(Buffer.concat(chunks));
  } catch (e) {
    if (dockerStatus(e) === 404) return null;
    throw e;
  }
}

async function readAccounts(imageId: string): Promise<Accounts> {
  return callDocker(async (d) => {
    const probe = await d.createContainer({
      Image: imageId,
      // Never started; the entrypoint only has to be something create accepts for any image.
      Entrypoint: ["/gantry-never-started"],
      Cmd: [],
      NetworkDisabled: true,
      Labels: { [PROBE_LABEL]: "accounts" },
      HostConfig: { NetworkMode: "none", CapDrop: ["ALL"], Privileged: false, AutoRemove: false },
    });
    try {
      const [passwd, group] = [await readFile(probe, "/etc/passwd"), await readFile(probe, "/etc/group")];
      return { passwd, group };
    } finally {
      // v: the anonymous volumes an image's VOLUME lines made at create go with it (named volumes are never touched).
      await probe.remove({ force: true, v: true }).catch((e) => log.warn("could not remove an image's accounts probe", { error: e }));
    }
  });
}

export function imageAccounts(imageId: string): Promise<Accounts> {
  let entry = cache.get(imageId);
  if (!entry) {
    entry = readAccounts(imageId);
    // A failure (the engine went away) is not remembered.
    entry.catch(() => cache.delete(imageId));
    cache.set(imageId, entry);
  }
  return entry;
}

/** The numeric uid:gid a container of this image runs as (never 0; see container-user.ts). */
export async function resolveContainerUser(imageId: string, imageUser: string | null | undefined): Promise<NumericUser> {
  const accounts = needsAccounts(imageUser) ? await imageAccounts(imageId) : undefined;
  return decideUser(imageUser, accounts);
}
