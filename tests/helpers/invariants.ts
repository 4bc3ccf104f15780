import Database from "better-sqlite3";
import Docker from "dockerode";

// The lifecycle's invariants, read from the two sources of truth at once: Gantry's database file and the Docker engine.
// Used after every round of the race and kill tests (tests/integration/lifecycle-*.test.ts).

const docker = new Docker();
const GiB = 1024 ** 3;
const TRANSITIONAL = new Set(["pulling", "starting", "stopping", "resetting", "deleting"]);
const HOLDING = new Set(["pulling", "starting", "running", "stopping", "resetting", "deleting"]);

type WsRow = { id: string; userId: string; status: string; containerId: string | null; gpus: number; memoryGb: number; cpus: number; actionId: string | null };
type AllocRow = { gpuUuid: string; workspaceId: string; userId: string };

function readDb(dbFile: string) {
  const conn = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    return {
      workspaces: conn.prepare("SELECT id, userId, status, containerId, gpus, memoryGb, cpus, actionId FROM Workspace").all() as WsRow[],
      allocations: conn.prepare("SELECT gpuUuid, workspaceId, userId FROM GpuAllocation").all() as AllocRow[],
      openIntervals: (conn.prepare("SELECT workspaceId FROM UsageInterval WHERE endedAt IS NULL").all() as { workspaceId: string }[]).map((r) => r.workspaceId),
    };
  } finally {
    conn.close();
  }
}

/** True once no workspace of these users is claimed or in a transitional status. */
export function settled(dbFile: string, userIds: string[]): boolean {
  return readDb(dbFile).workspaces.filter((w) => userIds.includes(w.userId)).every((w) => !w.actionId && !TRANSITIONAL.has(w.status));
}

export async function waitSettled(dbFile: string, userIds: string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!settled(dbFile, userIds)) {
    if (Date.now() > deadline) {
      const rows = readDb(dbFile).workspaces.filter((w) => userIds.includes(w.userId));
      throw new Error(`workspaces did not settle within ${timeoutMs} ms: ${JSON.stringify(rows)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every violation of the lifecycle's promises for these users' workspaces (empty when all hold):
 * each running container's GPUs equal its workspace's allocation rows; no GPU in two running containers; no container
 * without its workspace row; no allocation of a workspace that is neither running nor mid-transition; quota use equals
 * what the running containers hold; a settled workspace is "running" exactly when its container runs, and has an open
 * usage interval exactly then.
 */
export async function lifecycleViolations(dbFile: string, userIds: string[]): Promise<string[]> {
  const problems: string[] = [];
  const { workspaces, allocations, openIntervals } = readDb(dbFile);
  const mine = workspaces.filter((w) => userIds.includes(w.userId));
  const byId = new Map(workspaces.map((w) => [w.id, w]));
  const listed = (await docker.listContainers({ all: true, filters: { label: ["gantry.managed=true"] } })).filter((c) => userIds.includes(c.Labels["gantry.user"] ?? ""));
  const seen = new Map<string, string>();
  const held = new Map<string, { gpus: number; memoryGb: number; cpus: number }>();
  const runningContainerOf = new Map<string, string>();
  for (const c of listed) {
    const info = await docker.getContainer(c.Id).inspect().catch(() => null);
    if (!info) continue;
    const wsId = info.Config.Labels?.["gantry.workspace"] ?? "";
    const ws = byId.get(wsId);
    if (!ws) problems.push(`container ${c.Id.slice(0, 12)} (${info.State.Status}) has no workspace row (${wsId})`);
    if (!info.State.Running) continue;
    runningContainerOf.set(wsId, c.Id);
    const uuids = ((info.HostConfig as { DeviceRequests?: { DeviceIDs?: string[] }[] }).DeviceRequests ?? []).flatMap((r) => r.DeviceIDs ?? []).sort();
    const rows = allocations.filter((a) => a.workspaceId === wsId).map((a) => a.gpuUuid).sort();
    if (JSON.stringify(uuids) !== JSON.stringify(rows)) problems.push(`running container of ${wsId} has GPUs ${uuids} but allocation rows ${rows}`);
    for (const u of uuids) {
      if (seen.has(u)) problems.push(`GPU ${u} is in two running containers (${seen.get(u)} and ${wsId})`);
      seen.set(u, wsId);
    }
    const user = info.Config.Labels?.["gantry.user"] ?? "";
    const h = held.get(user) ?? { gpus: 0, memoryGb: 0, cpus: 0 };
    h.gpus += uuids.length;
    h.memoryGb += (info.HostConfig.Memory ?? 0) / GiB;
    h.cpus += (info.HostConfig.NanoCpus ?? 0) / 1e9;
    held.set(user, h);
  }
  for (const a of allocations) {
    const ws = byId.get(a.workspaceId);
    if (!ws || !HOLDING.has(ws.status)) problems.push(`allocation of ${a.gpuUuid} belongs to ${a.workspaceId}, which is ${ws?.status ?? "gone"}`);
  }
  for (const userId of userIds) {
    const counted = mine.filter((w) => w.userId === userId && HOLDING.has(w.status));
    const use = { gpus: counted.reduce((n, w) => n + w.gpus, 0), memoryGb: counted.reduce((n, w) => n + w.memoryGb, 0), cpus: counted.reduce((n, w) => n + w.cpus, 0) };
    const h = held.get(userId) ?? { gpus: 0, memoryGb: 0, cpus: 0 };
    const same = use.gpus === h.gpus && Math.abs(use.memoryGb - h.memoryGb) < 1e-6 && Math.abs(use.cpus - h.cpus) < 1e-6;
    if (!same) problems.push(`user ${userId}: quota counts ${JSON.stringify(use)} but containers hold ${JSON.stringify(h)}`);
  }
  for (const w of mine) {
    if (TRANSITIONAL.has(w.status) || w.actionId) continue;
    const runs = runningContainerOf.has(w.id);
    if ((w.status === "running") !== runs) problems.push(`workspace ${w.id} is ${w.status} but its container ${runs ? "runs" : "does not run"}`);
    if ((w.status === "running") !== openIntervals.includes(w.id)) problems.push(`workspace ${w.id} is ${w.status} but has ${openIntervals.includes(w.id) ? "an" : "no"} open usage interval`);
  }
  const live = new Set(workspaces.map((w) => w.id));
  for (const id of openIntervals) if (!live.has(id)) problems.push(`usage interval of deleted workspace ${id} is still open`);
  return problems;
}
