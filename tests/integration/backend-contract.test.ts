import crypto from "node:crypto";
import Docker from "dockerode";
import { afterAll, describe, expect, it } from "vitest";
import { dockerBackend } from "../../lib/docker/backend";
import type { BackendEvent, WorkspaceBackend, WorkspaceSpec } from "../../lib/backend/types";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { BUSYBOX_IMAGE, waitFor } from "../helpers/workspaces";

// The WorkspaceBackend contract, run against the Docker implementation and the real engine. A second backend (Docker
// Swarm) runs the same cases: what the lifecycle runner relies on is written down here, not in lib/docker's details.

const docker = new Docker();
const b: WorkspaceBackend = dockerBackend;
const userId = "cbackend" + crypto.randomBytes(6).toString("hex");
const made: string[] = [];

function spec(over: Partial<WorkspaceSpec> = {}): WorkspaceSpec {
  const workspaceId = "ws" + crypto.randomBytes(10).toString("hex");
  return {
    workspaceId,
    userId,
    name: b.unitName(),
    image: { id: "", user: "", env: [] },
    commandTemplate: QUICK_STOP_COMMAND,
    port: 8888,
    memoryGb: 0.5,
    cpus: 0.5,
    shmSizeGb: null,
    gpuUuids: [],
    jupyterToken: crypto.randomBytes(32).toString("hex"),
    dataPath: null,
    ...over,
  };
}

async function created(over: Partial<WorkspaceSpec> = {}): Promise<{ ref: string; s: WorkspaceSpec }> {
  const image = await b.image(BUSYBOX_IMAGE);
  expect(image).not.toBeNull();
  const s = spec({ image: image!, ...over });
  const ref = await b.create(s);
  made.push(ref);
  return { ref, s };
}

afterAll(async () => {
  for (const ref of made) await docker.getContainer(ref).remove({ force: true }).catch(() => {});
  await docker.getVolume(`gantry-home-${userId}`).remove().catch(() => {});
});

describe("the Docker backend keeps the WorkspaceBackend contract", () => {
  it("answers ping and capacity", async () => {
    expect(await b.ping()).toBe(true);
    const c = await b.capacity();
    expect(c.cpus).toBeGreaterThan(0);
    expect(c.memoryBytes).toBeGreaterThan(2 ** 28);
  });

  it("finds an image by ref and by its id, and says null for one it does not have", async () => {
    const byRef = await b.image(BUSYBOX_IMAGE);
    expect(byRef?.id).toMatch(/^sha256:/);
    expect((await b.image(byRef!.id))?.id).toBe(byRef!.id);
    expect(await b.image("gantry/not-here:0")).toBeNull();
  });

  it("creates, starts, observes (address, GPUs), runs a command as the unit's non-root user, stops and removes", async () => {
    const gpu = "GPU-3f8a1c2e-6b4d-7e91-a0c5-2d7f9b8e4a61";
    const { ref, s } = await created({ gpuUuids: [gpu] });
    const before = await b.observe(ref);
    expect(before).toMatchObject({ ref, running: false, workspaceId: s.workspaceId, gpuUuids: [gpu], address: null });
    await b.start(ref);
    await b.start(ref); // again: already running is success
    const seen = await b.observe(ref);
    expect(seen).toMatchObject({ running: true, workspaceId: s.workspaceId, gpuUuids: [gpu] });
    expect(seen!.address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(b.upstreamUrl(seen!.address!, 8888)).toBe(`http://${seen!.address}:8888`);
    expect(seen!.startedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect((await b.observe(s.name))?.ref).toBe(ref);

    const who = await b.exec(ref, ["id", "-u"], { timeoutMs: 10_000 });
    expect(who.exitCode).toBe(0);
    expect(who.stdout.trim()).not.toBe("0");
    const failing = await b.exec(ref, ["sh", "-c", "echo oops >&2; exit 3"]);
    expect(failing).toEqual({ exitCode: 3, stdout: "", stderr: "oops\n" });
    // Input on stdin, then end-of-file: `cat` would wait for ever without the EOF.
    const fed = await b.exec(ref, ["sh", "-c", "read first; cat; echo \"[$first]\""], { timeoutMs: 10_000, stdin: "secret\nrest\n" });
    expect(fed).toEqual({ exitCode: 0, stdout: "rest\n[secret]\n", stderr: "" });

    expect(await b.list()).toContainEqual({ ref, workspaceId: s.workspaceId, running: true });
    await b.stop(ref, 5);
    await b.stop(ref, 5); // again: already stopped is success
    const stopped = await b.observe(ref);
    expect(stopped).toMatchObject({ running: false, oomKilled: false, exitCode: 0, address: null });
    expect(stopped!.finishedAt!.getTime()).toBeGreaterThanOrEqual(stopped!.startedAt!.getTime());
    await b.remove(ref);
    await b.remove(ref); // again: already gone is success
    expect(await b.observe(ref)).toBeNull();
    await b.stop(ref); // stopping what is gone is success too
  });

  it("attaches an interactive process on a tty as the unit's non-root user: size, resize, exit code, hang-up on close", async () => {
    const { ref } = await created();
    await expect(b.attach(ref, { cmd: ["sh"], tty: true, cols: 80, rows: 24 })).rejects.toMatchObject({ code: "conflict" }); // not running
    await b.start(ref);
    const read = (a: Awaited<ReturnType<typeof b.attach>>) => {
      let out = "";
      a.stream.on("data", (c: Buffer) => (out += c.toString("utf8")));
      return () => out;
    };
    const a = await b.attach(ref, { cmd: ["sh"], workingDir: "/workspace", env: ["TERM=xterm-256color"], tty: true, cols: 91, rows: 33 });
    const out = read(a);
    a.stream.write("echo \"u=$(id -u) $(stty size) $PWD $TERM\"\r");
    await waitFor("the first answer", async () => out(), (o) => /u=\d+ 33 91 \/workspace xterm-256color/.test(o), 10_000, 100);
    expect(/u=(\d+)/.exec(out())![1]).not.toBe("0");
    await a.resize(120, 40);
    a.stream.write("echo \"s=$(stty size)\"; sleep 4242\r");
    await waitFor("the resized answer", async () => out(), (o) => o.includes("s=40 120"), 10_000, 100);
    a.close();
    // SIGHUP, then SIGKILL 3 s later: on a loaded 2-core machine that can take longer than 10 s.
    await waitFor("the hang-up", () => b.exec(ref, ["ps"]), (r) => !r.stdout.includes("sleep 4242"), 20_000, 250);

    const e = await b.attach(ref, { cmd: ["sh", "-c", "exit 7"], tty: true, cols: 80, rows: 24 });
    e.stream.resume();
    expect(await e.exited).toBe(7);
    await b.stop(ref, 1);
  });

  it("refuses to attach to a unit whose user is root, or not Gantry's", async () => {
    const cases: [Record<string, string>, string][] = [[{ "gantry.managed": "true" }, "forbidden"], [{}, "not_found"]];
    for (const [labels, code] of cases) {
      const c = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ["sleep", "600"], User: "0:0", Labels: labels });
      made.push(c.id);
      await c.start();
      await expect(b.attach(c.id, { cmd: ["id", "-u"], tty: true, cols: 80, rows: 24 })).rejects.toMatchObject({ code });
    }
  });

  it("replaces a leftover unit of the same workspace under the same name, and never one that is not its own", async () => {
    const { ref, s } = await created();
    const again = await b.create(s);
    made.push(again);
    expect(again).not.toBe(ref);
    expect(await b.observe(ref)).toBeNull();
    // Another workspace's unit under that name is not taken over: the create fails.
    await expect(b.create({ ...s, workspaceId: "ws" + crypto.randomBytes(10).toString("hex") })).rejects.toThrow();
    expect((await b.observe(again))?.workspaceId).toBe(s.workspaceId);
  });

  it("recreates the workspace network when someone removed it by hand", async () => {
    const first = await created();
    await b.remove(first.ref);
    const net = docker.getNetwork("gantry-workspaces");
    const attached = Object.keys(((await net.inspect()) as { Containers?: Record<string, unknown> }).Containers ?? {});
    // Only when no other test's container uses it (the engine is shared); a network in use cannot be removed.
    const removed = attached.length === 0 && (await net.remove().then(() => true, () => false));
    if (removed) {
      const { ref } = await created();
      await b.start(ref);
      expect((await b.observe(ref))?.address).toBeTruthy();
      await b.remove(ref);
    }
  });

  it("does not see containers Gantry did not make", async () => {
    const foreign = await docker.createContainer({ Image: BUSYBOX_IMAGE, Cmd: ["true"], Labels: { "gantry.workspace": "wsforeign" } });
    try {
      expect(await b.observe(foreign.id)).toBeNull();
      expect((await b.list()).map((u) => u.ref)).not.toContain(foreign.id);
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it("streams events for its units, and gives logs", async () => {
    const events: BackendEvent[] = [];
    let connected = 0;
    const stop = b.watch((e) => events.push(e), () => connected++);
    try {
      await waitFor("the event stream to connect", async () => connected, (n) => n > 0, 10_000, 50);
      const { ref, s } = await created({ commandTemplate: `sh -c "echo hello from the unit; sleep 30"` });
      await b.start(ref);
      await waitFor("a start event", async () => events, (e) => e.some((x) => x.workspaceId === s.workspaceId && x.kind === "start"), 10_000, 50);
      await waitFor("the log line", () => b.logs(ref, 10), (t) => t.includes("hello from the unit"), 10_000, 100);
      await b.remove(ref);
      await waitFor("a destroy event", async () => events, (e) => e.some((x) => x.workspaceId === s.workspaceId && x.kind === "destroy"), 10_000, 50);
    } finally {
      stop();
    }
  });

  it("a pull of an image no registry has fails with a sentence, and an aborted pull ends at once", async () => {
    await expect(b.pull("127.0.0.1:1/nothing/here:1", () => {})).rejects.toThrow(/registry|pull|not found/i);
    const controller = new AbortController();
    controller.abort();
    await expect(b.pull("127.0.0.1:1/nothing/here:1", () => {}, controller.signal)).rejects.toThrow(/cancelled/);
  });
});
