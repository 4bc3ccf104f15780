import crypto from "node:crypto";
import http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BUSYBOX_IMAGE,
  SETUP_TIMEOUT_MS,
  containersOf,
  docker,
  inspect,
  openEvents,
  startGantry,
  waitFor,
  type EventStream,
  type GantryEnv,
  type Seeded,
} from "../helpers/workspaces";

// Images that must be pulled first: progress from the local registry (127.0.0.1:5000, scripts/ci/start-registry.sh)
// as server-sent events, a registry that cannot be reached, and fake registries made here on 127.0.0.1 that trickle,
// stall or fail (a deterministic "pulling" window, and errors that are the registry's, not Docker's).

const REGISTRY = "127.0.0.1:5000";
const REPO = `${REGISTRY}/gantry-test/busybox`;

let g: GantryEnv;
let alice: Seeded;
let bob: Seeded;
let tag: string;
let remoteRef: string;

async function follow(stream: NodeJS.ReadableStream): Promise<{ error?: string }[]> {
  return new Promise((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: { error?: string }[]) => (err ? reject(err) : resolve(out))));
}

async function registryAnswers(): Promise<boolean> {
  try {
    const res = await fetch(`http://${REGISTRY}/v2/`, { signal: AbortSignal.timeout(3000) });
    return res.headers.get("docker-distribution-api-version") === "registry/2.0";
  } catch {
    return false;
  }
}

/**
 * Pushes a fresh image to the local registry and removes it locally: busybox plus a unique 8 MB layer of random
 * bytes, so the pull really downloads something (the busybox layers themselves are already here).
 */
async function pushUniqueImage(ref: string): Promise<void> {
  const [repo, t] = [ref.slice(0, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
  const builder = await docker.createContainer({
    Image: BUSYBOX_IMAGE,
    Cmd: ["sh", "-c", "head -c 8000000 /dev/urandom > /home/user/blob"],
    Labels: { "gantry-test": "pull-builder" },
    HostConfig: { NetworkMode: "none" },
  });
  try {
    await builder.start();
    const { StatusCode } = await builder.wait();
    if (StatusCode !== 0) throw new Error(`building the pull-test image failed (exit ${StatusCode})`);
    await builder.commit({ repo, tag: t, changes: 'CMD ["sleep", "infinity"]' });
  } finally {
    await builder.remove({ force: true }).catch(() => {});
  }
  // An empty X-Registry-Auth: the local registry needs none, and the engine refuses a push without the header.
  const pushStream = (await docker.getImage(ref).push({ authconfig: {} })) as unknown as NodeJS.ReadableStream;
  const out = await follow(pushStream);
  const failed = out.find((o) => o.error);
  if (failed) throw new Error(`docker push ${ref} failed: ${failed.error}`);
  await docker.getImage(ref).remove();
}

async function deleteFromRegistry(ref: string): Promise<void> {
  const [repo, t] = [ref.slice(REGISTRY.length + 1, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
  const head = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${t}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
  });
  const digest = head.headers.get("docker-content-digest");
  if (digest) await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
}

beforeAll(async () => {
  if (!(await registryAnswers())) throw new Error(`no registry answers at http://${REGISTRY}/v2/: run scripts/ci/start-registry.sh`);
  g = await startGantry({ prefix: "gantry-pull-" });
  alice = await g.seedUser("alice");
  bob = await g.seedUser("bob");
  tag = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  remoteRef = `${REPO}:${tag}`;
  await pushUniqueImage(remoteRef);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
  if (remoteRef) {
    await docker
      .getImage(remoteRef)
      .remove({ force: true })
      .catch(() => {});
    await deleteFromRegistry(remoteRef).catch(() => {});
  }
}, SETUP_TIMEOUT_MS);

function get(user: Seeded, id: string) {
  return g.api(`/api/workspaces/${id}`, { token: user.token }).then((r) => r.body);
}

describe("pulling from the local registry", () => {
  let aliceEvents: EventStream;
  let bobEvents: EventStream;

  afterAll(() => {
    aliceEvents?.close();
    bobEvents?.close();
  });

  it("launch answers 201 'pulling', publishes pull progress with byte totals, then runs", async () => {
    await expect(docker.getImage(remoteRef).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const imageId = await g.addImage({ name: "remote-busybox", ref: remoteRef });
    aliceEvents = await openEvents(g.url, alice.token);
    bobEvents = await openEvents(g.url, bob.token);

    const res = await g.api("/api/workspaces", { token: alice.token, json: { name: "pulled", imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe("pulling");
    const id = res.body.id;

    const running = await waitFor("the pulled workspace to run", () => get(alice, id), (w) => w.status === "running" || w.status === "error", 90_000, 250);
    expect(running).toMatchObject({ status: "running", containerId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const info = (await inspect(running.containerId))!;
    expect(info.State.Running).toBe(true);
    expect(info.Config.Cmd).toEqual(["sleep", "infinity"]); // no catalog command: the image's own CMD
    expect(info.Image).toBe((await docker.getImage(remoteRef).inspect()).Id);

    const progress = aliceEvents.events.filter((e) => e.event === "pull-progress" && e.data.workspaceId === id);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.some((e) => e.data.bytesTotal > 0)).toBe(true);
    const last = progress[progress.length - 1].data;
    expect(last.bytesDone).toBe(last.bytesTotal);
    expect(last.bytesTotal).toBeGreaterThanOrEqual(7_000_000);
    expect(aliceEvents.events.some((e) => e.event === "workspace" && e.data.workspaceId === id && e.data.workspace.status === "pulling")).toBe(true);
    expect(bobEvents.text()).not.toContain(id);

    const del = await g.api(`/api/workspaces/${id}`, { token: alice.token, method: "DELETE" });
    expect(del.status).toBe(204);
  });

  it("the event stream told the dashboard when the pulled workspace was running", async () => {
    const id = aliceEvents.events.find((e) => e.event === "pull-progress")?.data.workspaceId;
    expect(id).toBeTruthy();
    const statuses = aliceEvents.events.filter((e) => e.event === "workspace" && e.data.workspaceId === id).map((e) => e.data.workspace.status);
    expect(statuses).toContain("running");
  });

  it("an unreachable registry ends in status error with a message that says so, and no container", async () => {
    const imageId = await g.addImage({ name: "unreachable", ref: "127.0.0.1:5999/none/x:1" });
    const res = await g.api("/api/workspaces", { token: alice.token, json: { name: "unreachable", imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe("pulling");
    const ws = await waitFor("status error", () => get(alice, res.body.id), (w) => w.status === "error", 60_000, 250);
    expect(ws.statusMessage).toMatch(/registry|pull/i);
    expect(ws.statusMessage).toContain("127.0.0.1:5999/none/x:1");
    expect(ws.containerId).toBeNull();
    expect((await containersOf(alice.id)).filter((c) => c.Labels["gantry.workspace"] === res.body.id)).toEqual([]);
    // The dashboard follows a pull through the event stream, so the failure must arrive there too.
    const ev = await aliceEvents
      .waitFor("status error", (e) => e.event === "workspace" && e.data.workspaceId === res.body.id && e.data.workspace.status === "error", 5000)
      .catch(() => null);
    expect((await g.api(`/api/workspaces/${res.body.id}`, { token: alice.token, method: "DELETE" })).status).toBe(204);
    const statuses = aliceEvents.events.filter((e) => e.event === "workspace" && e.data.workspaceId === res.body.id).map((e) => e.data.workspace.status);
    expect(statuses, "workspace statuses the event stream carried").toContain("error");
    expect(ev!.data.workspace.statusMessage).toBe(ws.statusMessage);
  });
});

type FakeRegistry = { port: number; requests: string[]; cutOff(): void; close(): Promise<void> };

/**
 * A registry on 127.0.0.1 that Docker can reach. It answers the version check (GET /v2/), then, by mode:
 * - "hang": never answers the manifest request;
 * - "blob-error": serves a manifest and fails the blob downloads with a registry error whose text mentions a timeout,
 *   as registries and their storage back ends do;
 * - "slow-blob": serves a manifest and the config, then trickles the layer (2 KB every 250 ms, 400 KB in all), so
 *   Docker stays busy downloading (and reporting progress) for close to a minute.
 * Docker tries HTTPS first; refusing the TLS handshake at once makes it fall back to plain HTTP (127.0.0.0/8 is an
 * insecure registry).
 */
async function fakeRegistry(mode: "hang" | "blob-error" | "slow-blob"): Promise<FakeRegistry> {
  const requests: string[] = [];
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const digest = (b: Buffer) => "sha256:" + crypto.createHash("sha256").update(b).digest("hex");
  const layer = mode === "slow-blob" ? crypto.randomBytes(400 * 1024) : Buffer.from("not really a layer");
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", config: {}, rootfs: { type: "layers", diff_ids: [digest(layer)] } }));
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.docker.distribution.manifest.v2+json",
      config: { mediaType: "application/vnd.docker.container.image.v1+json", size: config.length, digest: digest(config) },
      layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", size: layer.length, digest: digest(layer) }],
    }),
  );
  const registry = http.createServer((req, res) => {
    const url = req.url ?? "";
    requests.push(`${req.method} ${url}`);
    const headers = { "Docker-Distribution-API-Version": "registry/2.0" };
    if (url === "/v2/") {
      res.writeHead(200, { ...headers, "Content-Type": "application/json", "Content-Length": "2" });
      res.end("{}");
      return;
    }
    if (mode === "hang") return; // no answer, ever
    if (url.includes("/manifests/")) {
      res.writeHead(200, {
        ...headers,
        "Content-Type": "application/vnd.docker.distribution.manifest.v2+json",
        "Docker-Content-Digest": digest(manifest),
        "Content-Length": String(manifest.length),
      });
      res.end(req.method === "HEAD" ? undefined : manifest);
      return;
    }
    if (mode === "slow-blob" && url.endsWith(digest(config))) {
      res.writeHead(200, { ...headers, "Content-Type": "application/octet-stream", "Content-Length": String(config.length) });
      res.end(config);
      return;
    }
    if (mode === "slow-blob" && url.endsWith(digest(layer))) {
      res.writeHead(200, { ...headers, "Content-Type": "application/octet-stream", "Content-Length": String(layer.length) });
      let sent = 0;
      const timer = setInterval(() => {
        if (res.destroyed || sent >= layer.length) {
          clearInterval(timer);
          timers.delete(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(layer.subarray(sent, sent + 2048));
        sent += 2048;
      }, 250);
      timers.add(timer);
      return;
    }
    const body = JSON.stringify({ errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown to registry: storage backend i/o timeout", detail: null }] });
    res.writeHead(404, { ...headers, "Content-Type": "application/json", "Content-Length": String(body.length) });
    res.end(body);
  });
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => sockets.delete(s));
    s.once("data", (first: Buffer) => {
      if (first[0] === 0x16) {
        s.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      s.pause();
      s.unshift(first);
      registry.emit("connection", s);
      s.resume();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const cutOff = () => {
    for (const t of timers) clearInterval(t);
    for (const s of sockets) s.destroy();
    server.close();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    requests,
    cutOff,
    close: async () => {
      cutOff();
      await new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

describe("registries that misbehave", () => {
  const registries: FakeRegistry[] = [];

  afterAll(async () => {
    for (const r of registries) await r.close().catch(() => {});
  });

  async function launchFrom(reg: FakeRegistry, name: string) {
    const ref = `127.0.0.1:${reg.port}/${name}/image:1`;
    const imageId = await g.addImage({ name, ref });
    const res = await g.api("/api/workspaces", { token: alice.token, json: { name, imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
    expect(res.status, res.text).toBe(201);
    expect(res.body.status).toBe("pulling");
    return { id: res.body.id as string, ref };
  }

  it("while a pull is under way, stop/start/reset/delete are 409, and the workspace stays 'pulling' until the pull ends", async () => {
    const reg = await fakeRegistry("slow-blob");
    registries.push(reg);
    const { id } = await launchFrom(reg, "trickle");
    await waitFor("Docker to download the layer", async () => reg.requests.filter((r) => r.includes("/blobs/")).length, (n) => n >= 2, 20_000, 100);

    for (const [method, path] of [
      ["POST", `/api/workspaces/${id}/stop`],
      ["POST", `/api/workspaces/${id}/start`],
      ["POST", `/api/workspaces/${id}/reset`],
      ["DELETE", `/api/workspaces/${id}`],
    ] as const) {
      const r = await g.api(path, { token: alice.token, method });
      expect({ method, path, status: r.status, code: r.body?.error?.code }).toEqual({ method, path, status: 409, code: "conflict" });
    }
    expect((await containersOf(alice.id)).filter((c) => c.Labels["gantry.workspace"] === id)).toEqual([]);

    // The download goes on for close to a minute. Gantry's full reconcile runs every 30 s: a refused action must not
    // have made the pull look abandoned to it (and its GPUs and quota free to hand out again).
    const watchUntil = Date.now() + 35_000;
    const seen = new Set<string>();
    while (Date.now() < watchUntil) {
      const w = await get(alice, id);
      seen.add(`${w.status}: ${w.statusMessage}`);
      if (w.status !== "pulling") break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect([...seen]).toEqual([expect.stringMatching(/^pulling: /)]);
    reg.cutOff();
  });

  it("a registry that stalls: the pull ends in an error about the registry, never blaming Docker", async () => {
    const reg = await fakeRegistry("hang");
    registries.push(reg);
    const { id, ref } = await launchFrom(reg, "stalled");
    await waitFor("Docker to ask the registry for the manifest", async () => reg.requests.filter((r) => r.includes("/manifests/")).length, (n) => n > 0, 10_000, 50);
    // Docker waits for the manifest without a timeout of its own and says nothing to its client meanwhile. Wait past
    // Gantry's Docker request timeout (GANTRY_DOCKER_TIMEOUT_MS, 30 s by default), then cut the registry off.
    const during = await waitFor("40 s of pulling", () => get(alice, id), (w) => w.status !== "pulling", 40_000, 500).catch(() => get(alice, id));
    reg.cutOff();
    const ws = during.status === "error" ? during : await waitFor("status error", () => get(alice, id), (w) => w.status === "error", 60_000, 250);
    expect({ status: ws.status, blamesDocker: /docker engine is not reachable/i.test(ws.statusMessage), message: ws.statusMessage }).toMatchObject({
      status: "error",
      blamesDocker: false,
    });
    expect(ws.statusMessage).toContain(ref);
    expect((await g.api("/api/health")).body).toMatchObject({ docker: true });
    expect((await g.api(`/api/workspaces/${id}`, { token: alice.token, method: "DELETE" })).status).toBe(204);
  });

  it("a registry error that mentions a timeout is reported as the registry's, not as Docker being unreachable", async () => {
    const reg = await fakeRegistry("blob-error");
    registries.push(reg);
    const { id, ref } = await launchFrom(reg, "broken");
    const ws = await waitFor("status error", () => get(alice, id), (w) => w.status === "error", 60_000, 250);
    expect(reg.requests.some((r) => r.includes("/blobs/"))).toBe(true);
    expect(ws.statusMessage).not.toMatch(/docker engine is not reachable/i);
    expect(ws.statusMessage).toContain(ref);
    expect(ws.statusMessage).toMatch(/registry|pull/i);
    expect((await g.api("/api/health")).body).toMatchObject({ docker: true });
    expect((await g.api(`/api/workspaces/${id}`, { token: alice.token, method: "DELETE" })).status).toBe(204);
  });
});
