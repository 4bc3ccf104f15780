// What the benches share: a Gantry server of its own (production build, `npx next build` first) on a temporary data
// dir, one user with a password and an API token, the test Jupyter image in the catalog, and a clean-up that removes
// everything the bench made, also on failure or Ctrl-C.
import crypto from "node:crypto";
import Docker from "dockerode";
import { makeDataDir } from "../tests/helpers/data-dir";
import { startServer, type GantryServer } from "../tests/helpers/gantry-server";
import { cli, createTokenWithCli } from "../tests/helpers/run-cli";
import { assertProductionBuild } from "../tests/helpers/prerequisites";

export const IMAGE = process.env.BENCH_IMAGE ?? "gantry/test-jupyter:1";
export const COMMAND = "python3 -m notebook --ip=0.0.0.0 --port={port} --no-browser --NotebookApp.base_url={base_url}";
export const RUN_ID = crypto.randomBytes(4).toString("hex");

export const docker = new Docker();

export type ApiAnswer = { status: number; body: any; text: string };

export async function api(server: GantryServer, path: string, token: string, method = "GET", json?: unknown): Promise<ApiAnswer> {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(json === undefined ? {} : { "content-type": "application/json" }) },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

export function expectStatus(what: string, res: { status: number; text: string }, status: number): void {
  if (res.status !== status) throw new Error(`${what}: expected HTTP ${status}, got ${res.status}: ${res.text}`);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = performance.now();
  const value = await fn();
  return [performance.now() - t0, value];
}

export type BenchEnv = {
  server: GantryServer;
  adminToken: string;
  user: { id: string; email: string; password: string; token: string };
  /** The catalog id of IMAGE, with COMMAND. */
  imageId: string;
};

/**
 * Runs `body` against a fresh Gantry server and always cleans up: `cleanup` (the bench's own leftovers) first, then
 * the user's containers and volume, the server and its data dir. Sets a failing exit code when anything throws.
 */
export async function runBench(
  name: string,
  body: (env: BenchEnv) => Promise<void>,
  cleanup: () => Promise<void> = async () => {},
  opts: { env?: Record<string, string>; command?: "server" | "npm-start" } = {},
): Promise<void> {
  assertProductionBuild();
  const dataDir = makeDataDir(`gantry-bench-${name}-`);
  let server: GantryServer | undefined;
  let userId: string | undefined;
  const cleanUp = async () => {
    // The engine may be restarting (another job on a shared CI host): give it a minute before cleaning up.
    for (let i = 0; i < 60 && !(await docker.ping().then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 1000));
    await cleanup().catch(() => {});
    if (userId) {
      const list = await docker.listContainers({ all: true, filters: { label: ["gantry.managed=true", `gantry.user=${userId}`] } }).catch(() => []);
      for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
      await docker.getVolume(`gantry-home-${userId}`).remove().catch(() => {});
    }
    await server?.stop().catch(() => {});
    dataDir.remove();
    if (userId) console.log(`Cleaned up: the bench's own containers, user ${userId}'s containers and volume gantry-home-${userId}.`);
  };
  process.once("SIGINT", () => void cleanUp().finally(() => process.exit(130)));

  try {
    console.log(`Starting Gantry on ${dataDir.path} …`);
    const adminEmail = "admin@gantry.bench";
    server = await startServer({ dataDir: dataDir.path, adminEmail, adminPassword: "bench-admin-password", env: opts.env, command: opts.command });
    const adminToken = await createTokenWithCli(dataDir.path, adminEmail, "bench");
    // Let a small machine hold a workspace regardless of Gantry's default host reserve.
    expectStatus("PUT /api/admin/settings", await api(server, "/api/admin/settings", adminToken, "PUT", { hostReserve: { memoryGb: 0, cpus: 0 } }), 200);
    const email = `bench-${RUN_ID}@gantry.bench`;
    const password = `bench-${RUN_ID}-password`;
    const created = await cli(dataDir.path, ["user", "create", "--email", email, "--password", password]);
    userId = /\((c[a-z0-9]+)\)/.exec(created)?.[1];
    if (!userId) throw new Error(`gantry user create printed no id: ${created}`);
    const token = await createTokenWithCli(dataDir.path, email, "bench");
    const added = await cli(dataDir.path, ["image", "add", "--name", "jupyter", "--ref", IMAGE, "--command", COMMAND]);
    const imageId = /\(([^()\s]+)\)\s*$/.exec(added.trim())?.[1];
    if (!imageId) throw new Error(`gantry image add printed no id: ${added}`);
    await body({ server, adminToken, user: { id: userId, email, password, token }, imageId });
  } catch (e) {
    console.error(e);
    process.exitCode = 1;
  } finally {
    await cleanUp();
  }
}
