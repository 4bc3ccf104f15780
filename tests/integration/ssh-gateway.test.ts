import crypto from "node:crypto";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Client } from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, runCli } from "../helpers/run-cli";
import { docker, exec, JUPYTER_COMMAND, JUPYTER_IMAGE, launchJupyterWorkspace, startGantry, waitFor, type GantryEnv, type Seeded } from "../helpers/workspaces";
import { makeKey, SshClient, writeKnownHosts } from "../helpers/ssh-client";

// The SSH gateway with the real OpenSSH client against a real workspace from the PyTorch test image (openssh-server
// installed, nothing of Gantry's in it): shell with a pty, exec with exit status, scp, sftp, ssh -L, every refusal
// with its one-line reason, and sessions ending within 15 s of key removal, a disable and a stop.

const PYTORCH_IMAGE = process.env.GANTRY_TEST_IMAGE_PYTORCH ?? "gantry/test-pytorch:1";
const CLOSE_WITHIN_MS = 15_000;
// The image's sftp-server serving a session (not a listener's python waiting for its caller, whose arguments name it).
const SFTP_SERVER = /^\S*sftp-server -d \/workspace$/;

let g: GantryEnv;
let ssh: SshClient;
let tmp: string;
let alice: Seeded;
let bob: Seeded;
let aliceKey: string;
let bobKey: string;
let gateway: { host: string; port: number; hostKey: string; fingerprint: string };
let train: any; // alice's PyTorch workspace
let plain: any; // alice's workspace on an image without sshd
let bobs: any; // bob's PyTorch workspace
const children = new Set<ChildProcess>();

/** A command in a workspace's container, straight through Docker (as `user`: "0" only to set up a case); its stdout. */
async function execIn(containerId: string, cmd: string[], user: string): Promise<string> {
  const r = await exec(containerId, cmd, user);
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} exited with ${r.exitCode}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function addKeyByApi(token: string, file: string, name: string) {
  return g.api("/api/me/ssh-keys", { token, json: { name, publicKey: fs.readFileSync(file + ".pub", "utf8") } });
}

function openSession(key: string, user: string): { child: ChildProcess; closed: Promise<number | null>; out: () => string } {
  const child = ssh.spawnSsh(key, user, ["echo ready; exec sleep 600"]);
  children.add(child);
  let out = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (out += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (out += s));
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => (children.delete(child), resolve(code))));
  return { child, closed, out: () => out };
}

async function expectClosedWithin(session: ReturnType<typeof openSession>, ms: number): Promise<number> {
  const started = Date.now();
  const result = await Promise.race([session.closed.then(() => "closed" as const), new Promise<"open">((r) => setTimeout(() => r("open"), ms))]);
  expect(result, session.out()).toBe("closed");
  return Date.now() - started;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-ssh-"));
  g = await startGantry({ prefix: "gantry-ssh-" });
  alice = await g.seedUser("alice");
  bob = await g.seedUser("bob");
  aliceKey = makeKey(tmp, "alice");
  bobKey = makeKey(tmp, "bob");

  const info = await g.api("/api/ssh", { token: alice.token });
  expect(info.status, info.text).toBe(200);
  gateway = info.body;
  expect(gateway.port).toBe(g.server.sshPort);
  const knownHosts = path.join(tmp, "known_hosts");
  writeKnownHosts(knownHosts, `[127.0.0.1]:${gateway.port} ${gateway.hostKey}`);
  ssh = new SshClient(gateway.port, knownHosts);

  expect((await addKeyByApi(alice.token, aliceKey, "laptop")).status).toBe(201);
  await cli(g.dataDir.path, ["ssh-key", "add", "--email", bob.email, "--name", "desktop", "--key-file", bobKey + ".pub"]);

  const py = await g.addImage({ name: "pytorch", ref: PYTORCH_IMAGE, command: JUPYTER_COMMAND });
  const jupyter = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
  train = await launchJupyterWorkspace(g, alice.token, { name: "train", imageId: py });
  plain = await launchJupyterWorkspace(g, alice.token, { name: "plain", imageId: jupyter });
  bobs = await launchJupyterWorkspace(g, bob.token, { name: "bobs", imageId: py });
}, 600_000);

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("SSH keys over the API and the CLI", () => {
  it("lists a user's own keys with ssh-keygen's fingerprint, and never the key material of others", async () => {
    const list = await g.api("/api/me/ssh-keys", { token: alice.token });
    expect(list.status).toBe(200);
    expect(list.body).toHaveLength(1);
    const printed = execFileSync("ssh-keygen", ["-lf", aliceKey + ".pub"], { encoding: "utf8" }).split(" ")[1];
    expect(list.body[0]).toMatchObject({ name: "laptop", type: "ssh-ed25519", fingerprint: printed });
    expect(Object.keys(list.body[0]).sort()).toEqual(["createdAt", "fingerprint", "id", "name", "type"]);
  });

  it("refuses bad keys with 422 and a reason", async () => {
    const rsa1024 = path.join(tmp, "rsa1024");
    execFileSync("ssh-keygen", ["-q", "-t", "rsa", "-b", "1024", "-N", "", "-f", rsa1024]);
    const pub = fs.readFileSync(aliceKey + ".pub", "utf8").trim();
    const bad: [string, RegExp][] = [
      ["garbage", /not an OpenSSH public key/],
      [fs.readFileSync(aliceKey, "utf8"), /private key/],
      ["ssh-dss AAAAB3NzaC1kc3MAAACBAP== old", /DSA/],
      [fs.readFileSync(rsa1024 + ".pub", "utf8"), /1024 bits/],
      [`command="ls" ${pub}`, /Options/],
      [`${pub}\n${pub}`, /one line/],
    ];
    for (const [publicKey, reason] of bad) {
      const res = await g.api("/api/me/ssh-keys", { token: alice.token, json: { name: "x", publicKey } });
      expect(res.status, publicKey).toBe(422);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.message).toMatch(reason);
    }
    expect((await g.api("/api/me/ssh-keys", { token: alice.token, json: { publicKey: pub, extra: 1 } })).status).toBe(422);
  });

  it("a key already registered, for another user or the same one, is refused (409); another user's key id is 404", async () => {
    const again = await addKeyByApi(bob.token, aliceKey, "stolen");
    expect(again.status).toBe(409);
    expect(again.text).not.toContain(alice.email);
    expect((await addKeyByApi(alice.token, aliceKey, "twice")).status).toBe(409);
    const bobsKeys = await g.api("/api/me/ssh-keys", { token: bob.token });
    expect(bobsKeys.body).toHaveLength(1);
    const del = await g.api(`/api/me/ssh-keys/${bobsKeys.body[0].id}`, { method: "DELETE", token: alice.token });
    expect(del.status).toBe(404);
    expect((await g.api("/api/me/ssh-keys", { token: bob.token })).body).toHaveLength(1);
  });

  it("the CLI lists and removes keys", async () => {
    const extra = makeKey(tmp, "cli-extra");
    await cli(g.dataDir.path, ["ssh-key", "add", "--email", alice.email, "--key-file", extra + ".pub"]);
    const fp = execFileSync("ssh-keygen", ["-lf", extra + ".pub"], { encoding: "utf8" }).split(" ")[1];
    expect(await cli(g.dataDir.path, ["ssh-key", "list", "--email", alice.email])).toContain(fp);
    await cli(g.dataDir.path, ["ssh-key", "remove", "--email", alice.email, "--fingerprint", fp]);
    expect(await cli(g.dataDir.path, ["ssh-key", "list", "--email", alice.email])).not.toContain(fp);
    const bad = await runCli(g.dataDir.path, ["ssh-key", "add", "--email", alice.email, "--key-file", path.join(tmp, "rsa1024.pub")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/1024 bits/);
  });
});

describe("the gateway's identity", () => {
  it("the fingerprint the API shows is the host key's, and the client checks it (StrictHostKeyChecking=yes)", async () => {
    const printed = execFileSync("ssh-keygen", ["-lf", path.join(tmp, "known_hosts")], { encoding: "utf8" });
    expect(printed).toContain(gateway.fingerprint);
    const res = await ssh.ssh(aliceKey, train.id, ["true"]);
    expect(res.code, res.stderr).toBe(0);
    // A known_hosts with another key: the client refuses to talk to the gateway at all.
    const other = path.join(tmp, "other_known_hosts");
    writeKnownHosts(other, `[127.0.0.1]:${gateway.port} ${fs.readFileSync(bobKey + ".pub", "utf8").split(" ").slice(0, 2).join(" ")}`);
    const wrong = await new SshClient(gateway.port, other).ssh(aliceKey, train.id, ["true"]);
    expect(wrong.code).toBe(255);
    expect(wrong.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });
});

describe("sessions", () => {
  it("exec: the exit status comes back, as the workspace's non-root user in /workspace", async () => {
    expect((await ssh.ssh(aliceKey, train.id, ["exit 3"])).code).toBe(3);
    const res = await ssh.ssh(aliceKey, "train", ["id -u; pwd; echo err >&2"]);
    expect(res.code, res.stderr).toBe(0);
    const [uid, pwd] = res.stdout.trim().split("\n");
    expect(Number(uid)).toBeGreaterThan(0);
    expect(pwd).toBe("/workspace");
    expect(res.stderr).toContain("err");
  });

  it("a shell with a pty (ssh -tt, commands on stdin)", async () => {
    const res = await ssh.ssh(aliceKey, "train", [], { extra: ["-tt"], input: "tty; pwd; exit 7\n" });
    expect(res.stdout).toMatch(/\/dev\/pts\/\d+/);
    expect(res.stdout).toContain("/workspace");
    expect(res.code).toBe(7);
  });

  it("the pty has the size the client asked for and follows window changes", async () => {
    const conn = new Client();
    await new Promise<void>((resolve, reject) => {
      conn.once("ready", resolve).once("error", reject);
      conn.connect({ host: "127.0.0.1", port: gateway.port, username: train.id, privateKey: fs.readFileSync(aliceKey), readyTimeout: 30_000 });
    });
    try {
      const stream = await new Promise<any>((resolve, reject) => conn.shell({ rows: 31, cols: 101, term: "xterm" }, (err, s) => (err ? reject(err) : resolve(s))));
      let out = "";
      stream.on("data", (b: Buffer) => (out += b.toString("utf8")));
      stream.write("stty size\n");
      await waitFor("the first size", async () => out, (o) => o.includes("31 101"), 15_000);
      stream.setWindow(42, 120, 0, 0);
      stream.write("stty size\n");
      await waitFor("the changed size", async () => out, (o) => o.includes("42 120"), 15_000);
      stream.write("exit\n");
    } finally {
      conn.end();
    }
  });

  it("a second program on one session (sftp, then exec on the same channel) is refused, and the gateway carries on", async () => {
    const conn = new Client();
    await new Promise<void>((resolve, reject) => {
      conn.once("ready", resolve).once("error", reject);
      conn.connect({ host: "127.0.0.1", port: gateway.port, username: train.id, privateKey: fs.readFileSync(aliceKey), readyTimeout: 30_000 });
    });
    try {
      const ch = await new Promise<any>((resolve, reject) => conn.subsys("sftp", (err, c) => (err ? reject(err) : resolve(c))));
      // ssh2's client has no call for a second request on a channel; its protocol object sends one as any client could.
      let out = "";
      ch.on("data", (b: Buffer) => (out += b.toString("latin1")));
      const proto = (conn as any)._protocol;
      proto.exec(ch.outgoing.id, "id", true);
      proto.subsystem(ch.outgoing.id, "sftp", true);
      await new Promise((r) => setTimeout(r, 1000));
      expect(out, "the second program must not run").not.toMatch(/uid=/);
      ch.close();
    } finally {
      conn.end();
    }
    const after = await ssh.ssh(aliceKey, train.id, ["echo still-here"]);
    expect(after.stdout.trim(), after.stderr).toBe("still-here");
  });

  it("scp both ways (SFTP protocol up, legacy scp -O down): a 10 MB file arrives unchanged", async () => {
    const file = path.join(tmp, "ten.bin");
    fs.writeFileSync(file, crypto.randomBytes(10 * 1024 * 1024));
    const sum = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const up = await ssh.scp(aliceKey, [file, ssh.target(train.id, "ten.bin")]);
    expect(up.code, up.stderr).toBe(0);
    const remote = await ssh.ssh(aliceKey, train.id, ["sha256sum /workspace/ten.bin"]);
    expect(remote.stdout.split(" ")[0]).toBe(sum);
    const back = path.join(tmp, "back.bin");
    const down = await ssh.scp(aliceKey, ["-O", ssh.target(train.id, "/workspace/ten.bin"), back]);
    expect(down.code, down.stderr).toBe(0);
    expect(crypto.createHash("sha256").update(fs.readFileSync(back)).digest("hex")).toBe(sum);
  });

  it("sftp in batch mode: put, ls, get", async () => {
    const local = path.join(tmp, "note.txt");
    fs.writeFileSync(local, "hello over sftp\n");
    const batch = path.join(tmp, "batch");
    fs.writeFileSync(batch, `pwd\nput ${local} note.txt\nls -l\nget note.txt ${path.join(tmp, "note-back.txt")}\n`);
    const res = await ssh.sftp(aliceKey, train.id, batch);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain("/workspace");
    expect(res.stdout).toMatch(/note\.txt/);
    expect(fs.readFileSync(path.join(tmp, "note-back.txt"), "utf8")).toBe("hello over sftp\n");
  });

  it("sftp runs on the image's own sftp-server, straight from the gateway (no second SSH hop); without python3, through the sshd", async () => {
    const running = async () => (await execIn(train.containerId, ["ps", "-eo", "args"], "1000")).split("\n");
    const viaGateway = async () => {
      const child = ssh.spawnSftp(aliceKey, train.id);
      children.add(child);
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (t: string) => (out += t));
      child.stderr!.setEncoding("utf8").on("data", (t: string) => (out += t));
      const closed = new Promise((r) => child.on("close", r));
      child.stdin!.write("pwd\n");
      await waitFor("the sftp session", async () => out, (o) => o.includes("/workspace"), 30_000);
      const procs = await running();
      child.stdin!.end("bye\n");
      await closed;
      children.delete(child);
      return procs;
    };
    const direct = await viaGateway();
    expect(direct.some((l) => SFTP_SERVER.test(l.trim())), direct.join("\n")).toBe(true);
    expect(direct.some((l) => l.includes("internal-sftp")), direct.join("\n")).toBe(false);
    // The session's end ends its sftp-server.
    await waitFor("sftp-server to exit", running, (p) => !p.some((l) => SFTP_SERVER.test(l.trim())), 10_000);

    const python = (await execIn(train.containerId, ["sh", "-c", "command -v python3"], "1000")).trim();
    await execIn(train.containerId, ["mv", python, `${python}.hidden`], "0");
    try {
      const viaSshd = await viaGateway();
      expect(viaSshd.some((l) => l.includes("internal-sftp")), viaSshd.join("\n")).toBe(true);
      expect(viaSshd.some((l) => SFTP_SERVER.test(l.trim())), viaSshd.join("\n")).toBe(false);
    } finally {
      await execIn(train.containerId, ["mv", `${python}.hidden`, python], "0");
    }
  });

  it("the one-shot sftp listener serves only the caller with its token, once; slow or wrong callers do not hold it; unused it ends", async () => {
    const { listenerArgv } = await import("../../lib/ssh/direct-sftp");
    const info = await docker.getContainer(train.containerId).inspect();
    const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)!.IPAddress;
    // The program the gateway runs over its inner channel, run here through Docker as the workspace's user, with the
    // image's own python3 and sftp-server (as inner-sshd.ts finds them).
    const [python, sftpServer] = (await execIn(train.containerId, ["sh", "-c", "command -v python3; ls /usr/lib/openssh/sftp-server"], "1000")).trim().split("\n");
    const listen = () => {
      const token = crypto.randomBytes(32).toString("hex");
      const child = spawn("docker", ["exec", "-i", "-u", "1000", train.containerId, ...listenerArgv({ python, sftpServer }, address)]);
      children.add(child);
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (t: string) => (out += t));
      child.stdin!.write(`${token}\n`);
      const exited = new Promise<number | null>((r) => child.on("close", (code) => (children.delete(child), r(code))));
      const port = waitFor("the port", async () => out, (o) => /^gantry-sftp-port \d+\n/.test(o), 15_000, 20).then((o) => Number(/\d+/.exec(o)![0]));
      return { token, port, exited, out: () => out, child };
    };
    const connect = (port: number) =>
      new Promise<net.Socket>((resolve, reject) => {
        const c = net.connect({ host: address, port }, () => resolve(c));
        c.once("error", reject);
      });
    const drain = (c: net.Socket) => new Promise<Buffer>((resolve) => {
      const got: Buffer[] = [];
      c.on("data", (b: Buffer) => got.push(b));
      c.on("close", () => resolve(Buffer.concat(got)));
      c.on("error", () => {});
    });
    const INIT = Buffer.from([0, 0, 0, 5, 1, 0, 0, 0, 3]);

    // Each check gets a listener of its own: on a loaded machine they would not all fit in one listener's 10 s.
    const first = listen();
    const firstPort = await first.port;
    // A neighbour (bob's workspace) cannot even reach it: its packets are dropped (inter-container traffic is off).
    const neighbour = await execIn(
      bobs.containerId,
      ["python3", "-c", `import socket\ntry:\n    socket.create_connection(("${address}", ${firstPort}), 3)\n    print("reached")\nexcept socket.timeout:\n    print("timeout")\nexcept OSError as e:\n    print("refused", e)`],
      "1000",
    );
    expect(neighbour.trim()).toBe("timeout");
    // What can reach it (the host) and sends a wrong token gets nothing at all, not even after sending sftp.
    const wrong = await connect(firstPort);
    wrong.write(`${"0".repeat(64)}\n`);
    wrong.write(INIT);
    expect((await drain(wrong)).length).toBe(0);
    first.child.stdin!.end();
    expect(await first.exited, "EOF on its stdin ends it").toBe(1);

    const l = listen();
    const port = await l.port;
    // A caller that dribbles bytes holds the listener for at most its 2 s; the gateway's call is then served.
    const slow = await connect(port);
    const dribble = setInterval(() => slow.write("0"), 300);
    slow.on("error", () => {});
    const t0 = Date.now();
    const right = await connect(port);
    right.write(`${l.token}\n`);
    right.write(INIT);
    const reply: Buffer = await new Promise((resolve, reject) => (right.once("data", resolve), right.once("error", reject)));
    clearInterval(dribble);
    slow.destroy();
    expect(reply[4], "SSH_FXP_VERSION answers SSH_FXP_INIT").toBe(2);
    expect(Date.now() - t0).toBeLessThan(4_000);
    await waitFor("the ok", async () => l.out(), (o) => o === `gantry-sftp-port ${port}\ngantry-sftp-ok\n`, 5_000, 20);
    // Served once, it listens no more; the session's end ends sftp-server, and the channel with it.
    await expect(connect(port)).rejects.toThrow(/ECONNREFUSED/);
    right.destroy();
    expect(await l.exited).toBe(0);

    // Nobody calls: it gives up after its 10 s, saying nothing.
    const idle = listen();
    const started = Date.now();
    await idle.port;
    expect(await idle.exited).toBe(1);
    expect(Date.now() - started).toBeGreaterThan(9_000);
    expect(idle.out()).toMatch(/^gantry-sftp-port \d+\n$/);
  });

  it("ssh -L reaches a port on the container's own 127.0.0.1", async () => {
    const marker = crypto.randomBytes(8).toString("hex");
    const started = await ssh.ssh(aliceKey, train.id, [
      `mkdir -p /workspace/www && echo ${marker} > /workspace/www/m.txt && cd /workspace/www && (nohup python3 -m http.server --bind 127.0.0.1 9999 >/dev/null 2>&1 &)`,
    ]);
    expect(started.code, started.stderr).toBe(0);
    const { freePort } = await import("../helpers/gantry-server");
    const local = await freePort();
    const fwd = ssh.spawnSsh(aliceKey, train.id, [], ["-N", "-o", "ExitOnForwardFailure=yes", "-L", `${local}:127.0.0.1:9999`]);
    children.add(fwd);
    try {
      const res = await waitFor(
        "the page through the forward",
        async () => (await fetch(`http://127.0.0.1:${local}/m.txt`, { signal: AbortSignal.timeout(5000) })).text(),
        (t) => t.trim() === marker,
        30_000,
        300,
      );
      expect(res.trim()).toBe(marker);
    } finally {
      fwd.kill();
    }
  });
});

describe("refusals, each with its one-line reason", () => {
  it("an unknown key", async () => {
    const stranger = makeKey(tmp, "stranger");
    const res = await ssh.ssh(stranger, train.id, ["true"]);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("Gantry knows no such SSH key");
  });

  it("another user's workspace, by id or name: the same answer as no workspace", async () => {
    for (const user of [bobs.id, "bobs"]) {
      const res = await ssh.ssh(aliceKey, user, ["true"]);
      expect(res.code).toBe(255);
      expect(res.stderr).toContain(`You have no workspace named "${user}"`);
    }
  });

  it("an image without sshd", async () => {
    const res = await ssh.ssh(aliceKey, plain.id, ["true"]);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("This workspace's image has no SSH server (openssh-server); use the browser terminal.");
  });

  it("a stopped workspace", async () => {
    const stop = await g.api(`/api/workspaces/${plain.id}/stop`, { token: alice.token, method: "POST" });
    expect(stop.status, stop.text).toBe(200);
    await waitFor("plain stopped", () => g.api(`/api/workspaces/${plain.id}`, { token: alice.token }), (r) => r.body?.status === "stopped", 60_000);
    const res = await ssh.ssh(aliceKey, "plain", ["true"]);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain('Workspace "plain" is stopped');
  });

  it("a disabled user", async () => {
    const off = await g.api(`/api/admin/users/${bob.id}`, { method: "PATCH", token: g.adminToken, json: { disabled: true } });
    expect(off.status, off.text).toBe(200);
    const res = await ssh.ssh(bobKey, bobs.id, ["true"]);
    expect(res.code).toBe(255);
    expect(res.stderr).toContain("Your Gantry account is disabled.");
    expect((await g.api(`/api/admin/users/${bob.id}`, { method: "PATCH", token: g.adminToken, json: { disabled: false } })).status).toBe(200);
    expect((await ssh.ssh(bobKey, bobs.id, ["true"])).code).toBe(0);
  });

  it("connections and refusals are audited with reason, workspace, user and address", async () => {
    const res = await g.api(`/api/admin/audit?page=1&pageSize=200`, { token: g.adminToken });
    const events = res.body.events as any[];
    const connect = events.find((e) => e.action === "ssh.connect" && e.targetId === train.id);
    expect(connect?.actorId).toBe(alice.id);
    expect(connect?.after.clientAddress).toBe("127.0.0.1");
    const reasons = events.filter((e) => e.action === "ssh.refused").map((e) => e.after.reason);
    expect(reasons).toEqual(expect.arrayContaining(["unknown key", expect.stringContaining("no SSH server"), expect.stringContaining("is stopped"), "Your Gantry account is disabled."]));
    expect(res.text).not.toContain("PRIVATE KEY");
    const added = events.filter((e) => e.action === "ssh_key.add" && e.targetId === alice.id).map((e) => e.after);
    expect(added).toEqual(expect.arrayContaining([expect.objectContaining({ name: "laptop", type: "ssh-ed25519" }), expect.objectContaining({ name: "cli-extra" })]));
    expect(events.some((e) => e.action === "ssh_key.remove" && e.targetId === alice.id && e.actorEmail === "system:cli")).toBe(true);
  });
});

describe("open sessions end within 15 s", () => {
  it("when the key is removed (API)", async () => {
    const spare = makeKey(tmp, "spare");
    const added = await addKeyByApi(alice.token, spare, "spare");
    expect(added.status, added.text).toBe(201);
    const s = openSession(spare, train.id);
    await waitFor("the session", async () => s.out(), (o) => o.includes("ready"), 30_000);
    const del = await g.api(`/api/me/ssh-keys/${added.body.id}`, { method: "DELETE", token: alice.token });
    expect(del.status).toBe(204);
    await expectClosedWithin(s, CLOSE_WITHIN_MS);
  });

  it("an sftp session when the key is removed: the client ends and so does the workspace's sftp-server", async () => {
    const spare = makeKey(tmp, "spare-sftp");
    const added = await addKeyByApi(alice.token, spare, "spare-sftp");
    expect(added.status, added.text).toBe(201);
    const child = ssh.spawnSftp(spare, train.id);
    children.add(child);
    let out = "";
    child.stdout!.setEncoding("utf8").on("data", (t: string) => (out += t));
    child.stderr!.setEncoding("utf8").on("data", (t: string) => (out += t));
    const s = { child, out: () => out, closed: new Promise<number | null>((r) => child.on("close", (code) => (children.delete(child), r(code)))) };
    child.stdin!.write("pwd\n");
    await waitFor("the sftp session", async () => out, (o) => o.includes("/workspace"), 30_000);
    const procs = async () => (await execIn(train.containerId, ["ps", "-eo", "args"], "1000")).split("\n");
    expect((await procs()).some((l) => SFTP_SERVER.test(l.trim()))).toBe(true);
    const del = await g.api(`/api/me/ssh-keys/${added.body.id}`, { method: "DELETE", token: alice.token });
    expect(del.status).toBe(204);
    // Inside the workspace the session is over within 15 s. The sftp client itself only notices when it next
    // speaks (it sits reading its own stdin): the next command finds the connection closed.
    await waitFor("sftp-server to exit", procs, (p) => !p.some((l) => SFTP_SERVER.test(l.trim())), CLOSE_WITHIN_MS);
    child.stdin!.write("ls\n");
    const code = await Promise.race([s.closed, new Promise<"open">((r) => setTimeout(() => r("open"), 5_000))]);
    expect(code, s.out()).not.toBe("open");
    expect(code).not.toBe(0);
  });

  it("when the user is disabled with the CLI (another process: the periodic re-check)", async () => {
    const s = openSession(bobKey, bobs.id);
    await waitFor("the session", async () => s.out(), (o) => o.includes("ready"), 30_000);
    await cli(g.dataDir.path, ["user", "disable", "--email", bob.email]);
    await expectClosedWithin(s, CLOSE_WITHIN_MS);
    await cli(g.dataDir.path, ["user", "enable", "--email", bob.email]);
  });

  it("when the workspace is stopped", async () => {
    const s = openSession(aliceKey, train.id);
    await waitFor("the session", async () => s.out(), (o) => o.includes("ready"), 30_000);
    const stop = await g.api(`/api/workspaces/${train.id}/stop`, { token: alice.token, method: "POST" });
    expect(stop.status, stop.text).toBe(200);
    await expectClosedWithin(s, CLOSE_WITHIN_MS);
  });
});

describe("throttling and secrets (last: it spends 127.0.0.1's budget)", () => {
  it("refused sign-ins are throttled per address, and then even a good key is turned away with the reason", async () => {
    const stranger = makeKey(tmp, "stranger-2");
    let throttled = false;
    for (let i = 0; i < 40 && !throttled; i++) {
      const res = await ssh.ssh(stranger, "whatever", ["true"]);
      expect(res.code).toBe(255);
      throttled = res.stderr.includes("Too many refused SSH sign-ins from your address");
    }
    expect(throttled).toBe(true);
    const good = await ssh.ssh(bobKey, bobs.id, ["true"]);
    expect(good.code).toBe(255);
    expect(good.stderr).toContain("Too many refused SSH sign-ins from your address");
  });

  it("no private key (the gateway's host key, the per-workspace keys) in any answer or log line", async () => {
    const hostKeyFile = fs.readFileSync(path.join(g.dataDir.path, "ssh-host-ed25519"), "utf8");
    expect(fs.statSync(path.join(g.dataDir.path, "ssh-host-ed25519")).mode & 0o777).toBe(0o600);
    const seen = g.server.stdout() + g.server.stderr() + (await g.api("/api/ssh", { token: alice.token })).text;
    expect(seen).not.toContain("PRIVATE KEY");
    expect(seen).not.toContain(hostKeyFile.split("\n")[1]);
  });
});
