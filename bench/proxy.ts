// `npm run bench` (second part): what the workspace proxy costs compared with talking to the container directly.
//
// Starts its own Gantry server (see harness.ts), launches one workspace with the test Jupyter image, opens it the way a
// browser does (sign in, /open/<id>, the proxy's grant) to get the proxy's cookie, writes a 100 MB file into
// /workspace with docker exec, then with one client, rotating the order of the four ways below, BENCH_PROXY_RUNS
// times (default 5, after one untimed warm-up round each):
//   REST:     BENCH_PROXY_REQUESTS (default 2000) sequential GET <base>/api/status;
//   download: GET <base>/files/<the 100 MB file>, the body read and counted.
// "Proxy" sends the proxy's cookie to the proxy's port; "direct" sends `Authorization: token <Jupyter token>` (read
// from the container's environment) to the container's address on the workspace network. "Bare proxy" is
// bench/reference-proxy.mjs, its own Node.js process as Gantry's proxy is: http-proxy-3 adding the token after one
// cookie comparison, nothing else; it shows what any proxy in front of the container costs on this machine, so the
// ratio proxy/bare is Gantry's own share. "TCP relay" is the same script piping bytes both ways with no HTTP parsed
// (the client sends the token itself): the floor of any process in the path. All use the same client: node:http with
// one keep-alive agent each, one socket. Prints medians, MB/s and the ratios to direct and proxy/bare.
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import http from "node:http";
import os from "node:os";
import { BrowserLike, Recorder } from "../tests/helpers/proxy";
import { login } from "../tests/helpers/http-session";
import { IMAGE, api, docker, expectStatus, median, runBench } from "./harness";

const RUNS = Number(process.env.BENCH_PROXY_RUNS ?? 5);
const REQUESTS = Number(process.env.BENCH_PROXY_REQUESTS ?? 2000);
const FILE_MB = 100;
const FILE_NAME = "gantry-bench-100m.bin";

if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_PROXY_RUNS must be a positive whole number, got ${process.env.BENCH_PROXY_RUNS}`);
if (!Number.isInteger(REQUESTS) || REQUESTS < 1) throw new Error(`BENCH_PROXY_REQUESTS must be a positive whole number, got ${process.env.BENCH_PROXY_REQUESTS}`);

type Way = { name: "proxy" | "direct" | "bare" | "relay"; origin: string; headers: Record<string, string>; agent: http.Agent };

/** One GET; resolves with the status and the number of body bytes (the body itself is dropped as it arrives). */
function get(way: Way, path: string): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(way.origin + path, { agent: way.agent, headers: way.headers }, (res) => {
      let bytes = 0;
      res.on("data", (c: Buffer) => (bytes += c.length));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on("error", reject);
    });
    req.on("error", reject);
  });
}

async function restRun(way: Way, path: string): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < REQUESTS; i++) {
    const { status } = await get(way, path);
    if (status !== 200) throw new Error(`${way.name} GET ${path} answered ${status}`);
  }
  return REQUESTS / ((performance.now() - t0) / 1000);
}

async function downloadRun(way: Way, path: string): Promise<number> {
  const t0 = performance.now();
  const { status, bytes } = await get(way, path);
  if (status !== 200 || bytes !== FILE_MB * 1024 * 1024) throw new Error(`${way.name} GET ${path} answered ${status} with ${bytes} bytes`);
  return bytes / 1024 / 1024 / ((performance.now() - t0) / 1000);
}

async function execIn(containerId: string, cmd: string[]): Promise<void> {
  const ex = await docker.getContainer(containerId).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await ex.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", reject);
    stream.resume();
  });
  const { ExitCode } = await ex.inspect();
  if (ExitCode !== 0) throw new Error(`${cmd.join(" ")} exited with ${ExitCode}`);
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

void runBench("proxy", async ({ server, user, imageId }) => {
  const launched = await api(server, "/api/workspaces", user.token, "POST", { name: "bench-proxy", imageId, gpus: 0, memoryGb: 1, cpus: 1 });
  expectStatus("launch", launched, 201);
  const workspaceId: string = launched.body.id;
  const info = await docker.getContainer(launched.body.containerId).inspect();
  const jupyterToken = (info.Config.Env ?? []).find((e) => e.startsWith("JUPYTER_TOKEN="))?.slice("JUPYTER_TOKEN=".length);
  const address = Object.values(info.NetworkSettings.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress;
  if (!jupyterToken || !address) throw new Error("the workspace's container has no JUPYTER_TOKEN or no address");
  const port = Object.keys(info.Config.ExposedPorts ?? {})[0]?.split("/")[0] ?? "8888";

  // The real grant flow, as a browser signed in to the dashboard goes through it.
  const proxyUrl = `http://127.0.0.1:${server.proxyPort}`;
  const { ok, session } = await login(server.url, user.email, user.password);
  if (!ok) throw new Error(`could not sign in as ${user.email}`);
  const browser = new BrowserLike(session, server.url, proxyUrl, new Recorder());
  await browser.handshake(workspaceId);

  const base = `/w/${workspaceId}`;
  const agent = () => new http.Agent({ keepAlive: true, maxSockets: 1 });
  const proxy: Way = { name: "proxy", origin: proxyUrl, headers: { cookie: browser.proxyJar.header() }, agent: agent() };
  const direct: Way = { name: "direct", origin: `http://${address}:${port}`, headers: { authorization: `token ${jupyterToken}` }, agent: agent() };
  const bare: Way = { name: "bare", ...(await startBareProxy(`http://${address}:${port}`, jupyterToken)), agent: agent() };
  const relay: Way = { name: "relay", origin: await startRelay(`http://${address}:${port}`), headers: direct.headers, agent: agent() };
  await until("Jupyter to answer through the proxy", async () => (await get(proxy, `${base}/api/status`)).status === 200);
  await until("Jupyter to answer through the bare proxy", async () => (await get(bare, `${base}/api/status`)).status === 200);
  await until("Jupyter to answer through the TCP relay", async () => (await get(relay, `${base}/api/status`)).status === 200);
  await execIn(launched.body.containerId, ["sh", "-c", `head -c ${FILE_MB * 1024 * 1024} /dev/urandom > /workspace/${FILE_NAME}`]);

  const rest = { proxy: [] as number[], direct: [] as number[], bare: [] as number[], relay: [] as number[] };
  const download = { proxy: [] as number[], direct: [] as number[], bare: [] as number[], relay: [] as number[] };
  const ways = [proxy, direct, bare, relay];
  for (let i = -1; i < RUNS; i++) {
    const label = i < 0 ? "warm-up" : `run ${i + 1}/${RUNS}`;
    // Rotate which way goes first, so that none always runs on a warmer (or busier) machine.
    const k = (i + ways.length) % ways.length;
    const order = [...ways.slice(k), ...ways.slice(0, k)];
    const line: string[] = [];
    for (const way of order) {
      const rps = await restRun(way, `${base}/api/status`);
      const mbps = await downloadRun(way, `${base}/files/${FILE_NAME}`);
      line.push(`${way.name} ${rps.toFixed(0)} req/s, ${mbps.toFixed(0)} MB/s`);
      if (i < 0) continue;
      rest[way.name].push(rps);
      download[way.name].push(mbps);
    }
    console.log(`${label}: ${line.join("; ")}`);
  }

  const row = (label: string, unit: string, xs: Record<Way["name"], number[]>) => {
    const [p, d, b, r] = [median(xs.proxy), median(xs.direct), median(xs.bare), median(xs.relay)];
    const cell = (x: number) => `${x.toFixed(0)} ${unit}`.padStart(14);
    const ratio = (x: number, width: number) => x.toFixed(2).padStart(width);
    return `${label.padEnd(22)}${cell(p)}${cell(d)}${cell(b)}${cell(r)}${ratio(p / d, 14)}${ratio(b / d, 12)}${ratio(r / d, 13)}${ratio(p / b, 12)}`;
  };
  console.log("");
  console.log(`Median of ${RUNS} runs (${IMAGE}, one client, keep-alive; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}):`);
  console.log(`${"".padEnd(22)}${"proxy".padStart(14)}${"direct".padStart(14)}${"bare proxy".padStart(14)}${"TCP relay".padStart(14)}${"proxy/direct".padStart(14)}${"bare/direct".padStart(12)}${"relay/direct".padStart(13)}${"proxy/bare".padStart(12)}`);
  console.log(row(`REST (${REQUESTS} GETs)`, "req/s", rest));
  console.log(row(`download (${FILE_MB} MB)`, "MB/s", download));
  for (const way of ways) way.agent.destroy();
});

/**
 * bench/reference-proxy.mjs in a process of its own, in front of the same container; resolves once it listens, with
 * where to reach it. It ends with this process, however that ends (a failed bench too).
 */
async function startBareProxy(target: string, jupyterToken: string): Promise<Pick<Way, "origin" | "headers">> {
  const cookie = crypto.randomBytes(16).toString("hex");
  return { origin: await startReference([target, jupyterToken, cookie]), headers: { cookie: `ref=${cookie}` } };
}

/** bench/reference-proxy.mjs as a TCP relay to the container (the client sends the Jupyter token itself). */
function startRelay(target: string): Promise<string> {
  return startReference(["--tcp", target]);
}

/** bench/reference-proxy.mjs with these arguments, in a process of its own; resolves with its origin once it listens. */
async function startReference(args: string[]): Promise<string> {
  const child = spawn(process.execPath, [new URL("./reference-proxy.mjs", import.meta.url).pathname, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`the bare proxy exited with ${code}`)));
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim()));
  });
  // Its port was all it had to say: neither its output nor the child itself keeps this process running.
  child.stdout!.destroy();
  child.unref();
  process.once("exit", () => child.kill("SIGTERM"));
  return `http://127.0.0.1:${port}`;
}
