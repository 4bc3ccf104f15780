import fs from "node:fs";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type GantryServer } from "../helpers/gantry-server";
import { waitFor } from "../helpers/gantry-api";
import { descendants, isNode, isNpm, type Proc } from "../helpers/processes";

// `npm start`, exactly as the README gives it, on a fresh data dir (the build is already there, as after the first
// start): it must end as one Node process besides npm, serving the dashboard and the workspace proxy, with no
// TypeScript compiler loaded — checked on the process tree and on every script V8 has parsed.

let server: GantryServer;

beforeAll(async () => {
  // --inspect-port=0: SIGUSR1 (below) opens V8's inspector on a free port instead of 9229.
  server = await startServer({ command: "npm-start", env: { NODE_OPTIONS: "--inspect-port=0" }, startTimeoutMs: 180_000 });
});

afterAll(async () => {
  await server?.stop();
});

function serverProcess(): Proc {
  const nodes = descendants(server.groupPid).filter((p) => isNode(p) && !isNpm(p));
  expect(nodes, JSON.stringify(descendants(server.groupPid), null, 1)).toHaveLength(1);
  return nodes[0];
}

describe("npm start", () => {
  it("is one Node process besides npm: scripts/start.mjs has become the server, and nothing compiles TypeScript", () => {
    const tree = descendants(server.groupPid);
    const nodes = tree.filter(isNode);
    expect(nodes.filter(isNpm), JSON.stringify(tree, null, 1)).toHaveLength(1);
    const serverProc = serverProcess();
    expect(serverProc.cmd).toMatch(/scripts\/start\.mjs$/);
    // tsx would show as a --require/--import of its loader, or as an esbuild service process beside the server.
    expect(tree.map((p) => `${p.exe} ${p.cmd}`).join("\n")).not.toMatch(/tsx|esbuild|typescript|ts-node/);
  });

  it("has parsed no TypeScript compiler: every script in V8, read through the inspector", async () => {
    const pid = serverProcess().pid;
    const before = server.stderr().length;
    process.kill(pid, "SIGUSR1");
    const url = await waitFor(async () => /Debugger listening on (ws:\/\/\S+)/.exec(server.stderr().slice(before))?.[1], 10_000, "the inspector's address");
    const ws = new WebSocket(url);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const scripts: string[] = [];
    let enabled = false;
    ws.on("message", (raw) => {
      const msg = JSON.parse(String(raw)) as { id?: number; method?: string; params?: { url?: string } };
      if (msg.method === "Debugger.scriptParsed" && msg.params?.url) scripts.push(msg.params.url);
      if (msg.id === 1) enabled = true;
    });
    // Debugger.enable reports every script already parsed before it answers.
    ws.send(JSON.stringify({ id: 1, method: "Debugger.enable" }));
    await waitFor(async () => enabled, 10_000, "Debugger.enable");
    ws.send(JSON.stringify({ id: 2, method: "Debugger.disable" }));
    ws.close();
    expect(scripts.some((u) => u.endsWith("/dist/server.mjs"))).toBe(true);
    expect(scripts.some((u) => u.includes("/node_modules/next/"))).toBe(true);
    expect(scripts.filter((u) => /\/node_modules\/(typescript|tsx|esbuild|@esbuild|ts-node|@swc\/core)\//.test(u))).toEqual([]);
    expect(scripts.filter((u) => /\.tsx?$/.test(u))).toEqual([]);
  });

  it("serves the dashboard and the workspace proxy from that one process", async () => {
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    const login = await fetch(`${server.url}/login`);
    expect(login.status).toBe(200);
    expect(await login.text()).toContain("Sign in");
    // The proxy answers on its own port: an unknown workspace is a 404 page, not a refused connection.
    const proxied = await fetch(`http://127.0.0.1:${server.proxyPort}/w/wsnosuchworkspace0000/`, { redirect: "manual" });
    expect([302, 303, 401, 403, 404]).toContain(proxied.status);
    await proxied.arrayBuffer();
    // Both listening sockets belong to the server process (its open sockets' inodes are the listeners').
    const pid = serverProcess().pid;
    const inodes = new Set(
      fs.readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`) || "");
        return m ? [m[1]] : [];
      }),
    );
    const listening = fs
      .readFileSync("/proc/net/tcp", "utf8")
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === "0A")
      .map((f) => ({ port: parseInt(f[1].split(":")[1], 16), inode: f[9] }));
    for (const port of [server.port, server.proxyPort]) {
      const l = listening.find((x) => x.port === port);
      expect(l, `port ${port}`).toBeDefined();
      expect(inodes.has(l!.inode), `port ${port} is the server's`).toBe(true);
    }
  });

  it("ends on a SIGTERM to npm, and leaves no process behind", async () => {
    const npm = descendants(server.groupPid).find((p) => isNode(p) && isNpm(p))!;
    const tree = descendants(server.groupPid).map((p) => p.pid);
    process.kill(npm.pid, "SIGTERM");
    await waitFor(async () => tree.every((pid) => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ")) || null, 15_000, "npm start to end");
    expect(server.stdout() + server.stderr()).toMatch(/shutting down/);
  });
});
