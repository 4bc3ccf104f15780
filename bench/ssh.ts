// `npm run bench` (third part): what the SSH gateway costs compared with the workspace's own sshd.
//
// Starts its own Gantry server (see harness.ts), launches one workspace from the PyTorch test image (openssh-server
// installed; BENCH_SSH_IMAGE overrides it), adds a fresh ed25519 key for the bench user through the API, and copies a
// 100 MB file of random bytes into /workspace with scp, BENCH_SSH_RUNS times (default 3, after one untimed warm-up),
// alternating which way goes first:
//   gateway: scp -P GANTRY_SSH_PORT <workspace id>@127.0.0.1 (Gantry's ssh2 server, handing the sftp session to the
//            image's sftp-server, lib/ssh/direct-sftp.ts);
//   direct:  scp straight to the container's address on the workspace network (routable from the host on Linux
//            bridge networks), to a second sshd started in the container with the gateway's own configuration, its
//            own port and the bench key as its authorized key: same binary, same container, no gateway in between.
// Both pin the host key they talk to. Prints medians in MB/s and the ratio gateway/direct (goal: at least 0.8), and
// what connecting and running `true` costs each way.
import { execFileSync, spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { cli } from "../tests/helpers/run-cli";
import { api, docker, expectStatus, median, runBench, COMMAND } from "./harness";

const IMAGE = process.env.BENCH_SSH_IMAGE ?? process.env.GANTRY_TEST_IMAGE_PYTORCH ?? "gantry/test-pytorch:1";
const RUNS = Number(process.env.BENCH_SSH_RUNS ?? 3);
const FILE_MB = 100;
const DIRECT_PORT = 2223;
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_SSH_RUNS must be a positive whole number, got ${process.env.BENCH_SSH_RUNS}`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-bench-ssh-"));

async function execIn(containerId: string, cmd: string[]): Promise<string> {
  const ex = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const { ExitCode } = await ex.inspect();
  // Docker's multiplexed stream: 8-byte frame headers before each chunk.
  const buf = Buffer.concat(chunks);
  let out = "";
  for (let i = 0; i + 8 <= buf.length; i += 8 + buf.readUInt32BE(i + 4)) out += buf.subarray(i + 8, i + 8 + buf.readUInt32BE(i + 4)).toString("utf8");
  if (ExitCode !== 0) throw new Error(`${cmd.join(" ")} exited with ${ExitCode}: ${out}`);
  return out;
}

function timed(cmd: "scp" | "ssh", args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (b: Buffer) => (err += b));
    child.on("close", (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}`))));
  });
}
const scp = (args: string[]) => timed("scp", args);

async function waitRunning(server: Parameters<typeof api>[0], token: string, id: string): Promise<any> {
  for (let i = 0; i < 180; i++) {
    const ws = await api(server, `/api/workspaces/${id}`, token);
    if (ws.body?.status === "running") return ws.body;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error("the workspace did not start within 90 s");
}

void runBench(
  "ssh",
  async ({ server, user }) => {
    const added = await cli(server.dataDir, ["image", "add", "--name", "pytorch", "--ref", IMAGE, "--command", COMMAND]);
    const imageId = /\(([^()\s]+)\)\s*$/.exec(added.trim())?.[1];
    if (!imageId) throw new Error(`gantry image add printed no id: ${added}`);
    const launched = await api(server, "/api/workspaces", user.token, "POST", { name: "bench-ssh", imageId, gpus: 0, memoryGb: 1, cpus: 1 });
    expectStatus("launch", launched, 201);
    const ws = await waitRunning(server, user.token, launched.body.id);

    const key = path.join(tmp, "id_ed25519");
    execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);
    expectStatus("add SSH key", await api(server, "/api/me/ssh-keys", user.token, "POST", { name: "bench", publicKey: fs.readFileSync(key + ".pub", "utf8") }), 201);
    const gw = await api(server, "/api/ssh", user.token);
    expectStatus("GET /api/ssh", gw, 200);
    const knownHosts = path.join(tmp, "known_hosts");
    fs.writeFileSync(knownHosts, `[127.0.0.1]:${gw.body.port} ${gw.body.hostKey}\n`);
    const common = ["-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", `UserKnownHostsFile=${knownHosts}`, "-q"];

    const file = path.join(tmp, "100m.bin");
    fs.writeFileSync(file, crypto.randomBytes(FILE_MB * 1024 * 1024));
    // The first gateway session starts the workspace's sshd; the direct one is a second sshd from its configuration.
    await scp([...common, "-P", String(gw.body.port), key + ".pub", `${ws.id}@127.0.0.1:warm.txt`]);
    const info = await docker.getContainer(ws.containerId).inspect();
    const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
    if (!address) throw new Error("the workspace's container has no address");
    const d = "/tmp/.gantry-sshd";
    await execIn(ws.containerId, [
      "sh", "-c",
      `cp ${d}/sshd_config.running ${d}/bench_config && sed -i -e 's/^Port .*/Port ${DIRECT_PORT}/' -e 's|^AuthorizedKeysFile .*|AuthorizedKeysFile ${d}/bench_keys|' -e 's|^PidFile .*|PidFile ${d}/bench.pid|' ${d}/bench_config && printf '%s\\n' "$1" > ${d}/bench_keys && /usr/sbin/sshd -f ${d}/bench_config -E ${d}/bench.log`,
      "bench", fs.readFileSync(key + ".pub", "utf8").trim(),
    ]);
    const innerHostKey = (await execIn(ws.containerId, ["cat", `${d}/host_ed25519.pub`])).trim().split(" ").slice(0, 2).join(" ");
    fs.appendFileSync(knownHosts, `[${address}]:${DIRECT_PORT} ${innerHostKey}\n`);
    const innerUser = (await execIn(ws.containerId, ["id", "-un"])).trim();

    const ways = {
      gateway: () => scp([...common, "-P", String(gw.body.port), file, `${ws.id}@127.0.0.1:/workspace/via-gateway.bin`]),
      direct: () => scp([...common, "-P", String(DIRECT_PORT), file, `${innerUser}@${address}:/workspace/direct.bin`]),
    };
    const mbps = { gateway: [] as number[], direct: [] as number[] };
    for (let i = -1; i < RUNS; i++) {
      const order = (i % 2 === 0 ? ["gateway", "direct"] : ["direct", "gateway"]) as (keyof typeof ways)[];
      const line: string[] = [];
      for (const way of order) {
        const ms = await ways[way]();
        const rate = FILE_MB / (ms / 1000);
        line.push(`${way} ${(ms / 1000).toFixed(2)} s (${rate.toFixed(0)} MB/s)`);
        if (i >= 0) mbps[way].push(rate);
      }
      console.log(`${i < 0 ? "warm-up" : `run ${i + 1}/${RUNS}`}: ${line.join("; ")}`);
    }
    // What a connection costs before any byte of a file moves: `ssh … true`, each way, 5 times.
    const connect = { gateway: [] as number[], direct: [] as number[] };
    for (let i = 0; i < 5; i++) {
      connect.gateway.push(await timed("ssh", [...common, "-p", String(gw.body.port), `${ws.id}@127.0.0.1`, "true"]));
      connect.direct.push(await timed("ssh", [...common, "-p", String(DIRECT_PORT), `${innerUser}@${address}`, "true"]));
    }
    const sums = await execIn(ws.containerId, ["sh", "-c", "sha256sum /workspace/via-gateway.bin /workspace/direct.bin | cut -d' ' -f1 | uniq | wc -l"]);
    if (sums.trim() !== "1") throw new Error("the two copies differ");
    const g = median(mbps.gateway);
    const dm = median(mbps.direct);
    console.log("");
    console.log(`Median of ${RUNS} scp copies of ${FILE_MB} MB (${IMAGE}; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}):`);
    console.log(`  connect and run \`true\`: gateway ${median(connect.gateway).toFixed(0)} ms, direct ${median(connect.direct).toFixed(0)} ms (median of 5)`);
    console.log(`  gateway ${g.toFixed(0)} MB/s (${(FILE_MB / g).toFixed(2)} s), direct ${dm.toFixed(0)} MB/s (${(FILE_MB / dm).toFixed(2)} s), ratio gateway/direct ${(g / dm).toFixed(2)} (goal >= 0.80)`);
  },
  async () => fs.rmSync(tmp, { recursive: true, force: true }),
);
