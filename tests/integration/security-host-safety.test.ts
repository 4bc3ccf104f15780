import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exec } from "../helpers/workspaces";
import {
  BUSYBOX_IMAGE,
  SETUP_TIMEOUT_MS,
  docker,
  expectErrorShape,
  expectNoSecrets,
  openStream,
  rand,
  serverLog,
  startSecurityEnv,
  type Principal,
  type SecurityEnv,
} from "../helpers/security";

// Checks by spelling are no checks (../shared/SECURITY.md): the admin's /data directory is resolved on the host before
// it is judged, the container's user is resolved to a number before it is judged, and what Docker says when it fails
// reaches the server log, never a user. Real HTTP, real SQLite, real Docker.

let env: SecurityEnv;
let alice: Principal;
let tmp: string;
const images: string[] = [];

type Settings = { dataPath: string | null };
type Ws = { id: string; status: string; statusMessage: string; containerId: string | null };

async function getSettings(): Promise<Settings> {
  const res = await env.req<Settings>("/api/admin/settings", { token: env.admin.token });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

function putDataPath(dataPath: string | null) {
  // Settings on success, the error body otherwise.
  return env.req("/api/admin/settings", { method: "PUT", token: env.admin.token, json: { dataPath } });
}

async function launchAndGet(p: Principal, imageId: string, name: string): Promise<Ws> {
  const res = await env.launch(p, { name, imageId });
  expect(res.status, res.text).toBe(201);
  return res.body as Ws;
}

async function remove(p: Principal, id: string): Promise<void> {
  expect((await env.req(`/api/workspaces/${id}`, { method: "DELETE", token: p.token })).status).toBe(204);
}

/** An image FROM the busybox test image, built offline from a Dockerfile and files written here. */
function buildImage(tag: string, dockerfile: string, files: Record<string, string> = {}): string {
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-user-image-"));
  try {
    fs.writeFileSync(path.join(ctx, "Dockerfile"), dockerfile);
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(ctx, name), text);
    execFileSync("docker", ["build", "-q", "--network", "none", "-t", tag, ctx], { env: { ...process.env, DOCKER_BUILDKIT: "0" }, stdio: "pipe" });
  } finally {
    fs.rmSync(ctx, { recursive: true, force: true });
  }
  images.push(tag);
  return tag;
}

beforeAll(async () => {
  env = await startSecurityEnv({ prefix: "gantry-sec-host-" });
  alice = await env.createUser("alice");
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "gantry-sec-hostpaths-")));
  fs.chmodSync(tmp, 0o755);
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await env?.cleanup();
  for (const tag of images) execFileSync("docker", ["rmi", "-f", tag], { stdio: "pipe" });
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, SETUP_TIMEOUT_MS);

describe("the /data directory is resolved on the host, then judged", () => {
  const cases: [string, () => string, RegExp][] = [
    ["/run/.", () => "/run/.", /is \/run|does not exist/],
    ["//run", () => "//run", /is \/run/],
    ["/var//run", () => "/var//run", /is \/(var\/)?run/],
    ["/proc/1/root", () => "/proc/1/root", /cannot be resolved|is \/,|lies inside \/proc/],
    ["/var/lib/docker/volumes", () => "/var/lib/docker/volumes", /lies inside \/var\/lib\/docker|does not exist/],
    ["/", () => "/", /is \/, the host's root directory/],
    ["/var (it contains /var/run and /var/lib/docker)", () => "/var", /contains \/var\/(run|lib\/docker)/],
    ["/etc/../etc", () => "/etc/../etc", /is \/etc/],
    ["/tmp (it contains Gantry's data directory)", () => os.tmpdir(), /contains .*Gantry's own data directory/],
    ["Gantry's own data directory", () => env.dataDir.path, /Gantry's own data directory/],
    ["a path that does not exist", () => path.join(tmp, "missing"), /does not exist on the host/],
    ["a regular file", () => path.join(tmp, "a-file"), /is not a directory/],
    ["a symlink to /run", () => path.join(tmp, "link-to-run"), /\(which resolves to \/run\) is \/run/],
    ["a symlink to the Docker socket", () => path.join(tmp, "link-to-socket"), /is not a directory/],
  ];

  beforeAll(() => {
    fs.writeFileSync(path.join(tmp, "a-file"), "not a directory\n");
    fs.symlinkSync("/run", path.join(tmp, "link-to-run"));
    fs.symlinkSync("/var/run/docker.sock", path.join(tmp, "link-to-socket"));
  });

  it.each(cases)("refuses %s with 422, a sentence, and saves nothing", async (_name, given, why) => {
    const before = await getSettings();
    const res = await putDataPath(given());
    expectErrorShape(res, 422, "validation_failed");
    expect(res.body.error.message).toMatch(/^dataPath: /);
    expect(res.body.error.message).toMatch(why);
    expect(await getSettings()).toEqual(before);
  });

  it("accepts an ordinary directory and stores it resolved (through a symlink, with // and /.)", async () => {
    fs.mkdirSync(path.join(tmp, "datasets"));
    fs.symlinkSync(path.join(tmp, "datasets"), path.join(tmp, "alias"));
    const res = await putDataPath(`${tmp}//alias/.`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.dataPath).toBe(path.join(tmp, "datasets"));
    expect((await getSettings()).dataPath).toBe(path.join(tmp, "datasets"));
  });

  it("a directory swapped for a symlink to /run after it was saved is not mounted", async () => {
    const dir = path.join(tmp, "swapped");
    fs.mkdirSync(dir);
    expect((await putDataPath(dir)).status).toBe(200);
    const busybox = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
    const before = await launchAndGet(alice, busybox, "before-swap");
    const mountsBefore = (await env.inspect(before.containerId!)).Mounts.filter((m) => m.Type === "bind");
    expect(mountsBefore.map((m) => [m.Source, m.Destination, m.RW])).toEqual([[dir, "/data", false]]);
    await remove(alice, before.id);

    fs.rmdirSync(dir);
    fs.symlinkSync("/run", dir);
    const after = await launchAndGet(alice, busybox, "after-swap");
    expect(after.status, after.statusMessage).toBe("running");
    const info = await env.inspect(after.containerId!);
    expect(info.Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    expect(JSON.stringify(info.Mounts)).not.toMatch(/"\/run"|docker\.sock/);
    expect(serverLog(env)).toMatch(/the \/data directory in the settings is refused.*\(which resolves to \/run\) is \/run/);
    await remove(alice, after.id);
  });

  it("start-up re-checks a stored value written before this check, logs why, and mounts nothing", async () => {
    // What the old regexes let through, written straight into the settings row while the server is down.
    await env.server.stop();
    const db = new Database(env.dataDir.databaseFile);
    try {
      const row = db.prepare("SELECT value FROM Setting WHERE key = 'settings'").get() as { value: string };
      db.prepare("UPDATE Setting SET value = ? WHERE key = 'settings'").run(JSON.stringify({ ...JSON.parse(row.value), dataPath: "/run/." }));
    } finally {
      db.close();
    }
    await env.restart();
    expect(env.server.stderr() + env.server.stdout()).toMatch(/the stored \/data directory is refused at start-up.*"dataPath":"\/run\/\."/);
    const busybox = await env.addImage(`busybox-${rand()}`, BUSYBOX_IMAGE);
    const ws = await launchAndGet(alice, busybox, "after-restart");
    expect(ws.status, ws.statusMessage).toBe("running");
    expect((await env.inspect(ws.containerId!)).Mounts.filter((m) => m.Type === "bind")).toEqual([]);
    await remove(alice, ws.id);
    // The admin fixes it in the dashboard.
    expect((await putDataPath(null)).status).toBe(200);
  });
});

/** The actions of Docker's events for accounts-probe containers since `since` (seconds), up to now. */
/** The probe containers' events since `since` (seconds, fractional): Docker's own filter counts whole seconds, so the
 * events of the second before (the previous test's probe) are dropped here by their nanosecond time. */
async function probeEvents(since: number): Promise<string[]> {
  const until = Math.floor(Date.now() / 1000) + 1;
  const stream = (await docker.getEvents({ since: Math.floor(since), until, filters: { type: ["container"], label: ["gantry.probe"] } })) as NodeJS.ReadableStream;
  let text = "";
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString("utf8");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { Action: string; timeNano: number })
    .filter((e) => e.timeNano / 1e9 >= since)
    .map((e) => e.Action);
}

describe("the container's user is resolved to a number; uid 0 in any spelling runs as 1000:1000", () => {
  const PASSWD = "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
  const GROUP = "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n";
  const cases: [string, () => string, string | null][] = [];

  beforeAll(() => {
    const id = rand();
    const from = `FROM ${BUSYBOX_IMAGE}\n`;
    cases.push(
      ["USER 00", () => buildImage(`gantry-test/user-00-${id}:1`, `${from}USER 00\n`), null],
      ["USER +0", () => buildImage(`gantry-test/user-plus0-${id}:1`, `${from}USER +0\n`), null],
      ["USER 00:1000", () => buildImage(`gantry-test/user-00g-${id}:1`, `${from}USER 00:1000\n`), null],
      [
        "USER toor (an alias of uid 0 in /etc/passwd)",
        () => buildImage(`gantry-test/user-toor-${id}:1`, `${from}COPY passwd /etc/passwd\nUSER toor\n`, { passwd: PASSWD + "toor:x:0:0::/root:/bin/sh\n" }),
        null,
      ],
      [
        "USER builder (uid 1234, kept)",
        () =>
          buildImage(`gantry-test/user-builder-${id}:1`, `${from}COPY passwd /etc/passwd\nCOPY group /etc/group\nUSER builder\n`, {
            passwd: PASSWD + "builder:x:1234:1234::/workspace:/bin/sh\n",
            group: GROUP + "builder:x:1234:\n",
          }),
        "1234:1234",
      ],
    );
  });

  it("each image runs as a non-zero numeric uid:gid, as docker inspect and the process itself say", async () => {
    const seen: Record<string, string> = {};
    const refs: string[] = [];
    const since = Date.now() / 1000;
    for (const [name, build, expected] of cases) {
      const ref = build();
      refs.push(ref);
      const imageId = await env.addImage(`user-${rand()}`, ref);
      const ws = await launchAndGet(alice, imageId, `user-${rand()}`);
      expect(ws.status, `${name}: ${ws.statusMessage}`).toBe("running");
      const info = await env.inspect(ws.containerId!);
      const m = /^(\d+):(\d+)$/.exec(info.Config.User ?? "");
      expect(m, `${name}: Config.User is ${JSON.stringify(info.Config.User)}`).not.toBeNull();
      expect(Number(m![1]), name).toBeGreaterThan(0);
      expect(Number(m![2]), name).toBeGreaterThan(0);
      expect(info.Config.User, name).toBe(expected ?? "1000:1000");
      const probe = await exec(info.Id, ["sh", "-c", "id -u; id -g; id -G; awk '/^Uid:/ {print $2}' /proc/1/status"]);
      const [uid, gid, groups, pid1Uid] = probe.stdout.trim().split("\n");
      expect(uid, name).not.toBe("0");
      expect(pid1Uid, name).not.toBe("0");
      expect(gid, name).not.toBe("0");
      expect(groups.split(" "), name).not.toContain("0");
      seen[name] = `${uid}:${gid}`;
      await remove(alice, ws.id);
    }
    expect(seen).toEqual({
      "USER 00": "1000:1000",
      "USER +0": "1000:1000",
      "USER 00:1000": "1000:1000",
      "USER toor (an alias of uid 0 in /etc/passwd)": "1000:1000",
      "USER builder (uid 1234, kept)": "1234:1234",
    });
    // The containers that read each image's /etc/passwd were never started and are gone.
    expect(await docker.listContainers({ all: true, filters: { label: ["gantry.probe"] } })).toEqual([]);
    // Only the two images whose USER is a name needed one (numbers need no /etc/passwd), and none ever started.
    const probes = await probeEvents(since);
    expect(probes.filter((e) => e === "create")).toHaveLength(2);
    expect(probes).not.toContain("start");
  });

  it("an image's /etc/passwd is read once per image id: a second launch asks Docker for nothing more", async () => {
    const imageId = await env.addImage(`user-again-${rand()}`, images[images.length - 1]);
    const since = Date.now() / 1000;
    const ws = await launchAndGet(alice, imageId, `user-again-${rand()}`);
    expect((await env.inspect(ws.containerId!)).Config.User).toBe("1234:1234");
    expect(await probeEvents(since)).toEqual([]);
    await remove(alice, ws.id);
  });
});

describe("a Docker failure reaches the user as a sentence and a reference, and the log as Docker's text", () => {
  it("a start command that does not exist: the answer, the status message and the events hold only the reference", async () => {
    const imageId = await env.addImage(`broken-${rand()}`, BUSYBOX_IMAGE, "/gantry-no-such-binary --flag");
    const events = await openStream(env, "/api/events", { token: alice.token });
    const res = await env.launch(alice, { name: `broken-${rand()}`, imageId });
    expect(res.status, res.text).toBe(201);
    const ws = res.body as Ws;
    expect(ws.status).toBe("error");
    const m = /^Docker could not launch the workspace \(reference ([0-9a-f]{8})\)\.$/.exec(ws.statusMessage);
    expect(m, ws.statusMessage).not.toBeNull();
    const reference = m![1];
    const listed = await env.req<Ws>(`/api/workspaces/${ws.id}`, { token: alice.token });
    expect(listed.body.statusMessage).toBe(ws.statusMessage);
    await new Promise((r) => setTimeout(r, 500));
    events.close();
    await events.closed;

    const RAW = [/Error response from daemon/i, /HTTP code/, /OCI runtime/i, /runc/, /no-such-binary/, /sha256/, /\b[0-9a-f]{64}\b/, /docker\.sock/, /\/var\/run|\/run\//];
    const said = [res.text, listed.text, events.text()];
    expect(events.text()).toContain(reference);
    for (const text of said) for (const raw of RAW) expect(text, `${raw} in ${text.slice(0, 300)}`).not.toMatch(raw);

    const line = serverLog(env)
      .split("\n")
      .find((l) => l.includes(`"reference":"${reference}"`));
    expect(line, "a log line with the reference").toBeDefined();
    const logged = JSON.parse(line!);
    expect(logged).toMatchObject({ level: "error", workspaceId: ws.id });
    expect((logged.detail as string[]).join("")).toMatch(/no-such-binary/);
    await remove(alice, ws.id);
  });
});

describe("the whole file", () => {
  it("no answer or log line holds a secret", async () => {
    await expectNoSecrets(env);
  });
});
