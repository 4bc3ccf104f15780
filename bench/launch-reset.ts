// `npm run bench`: how much Gantry adds on top of Docker when launching and resetting a workspace.
//
// Starts its own Gantry server (production build, `npx next build` first) on a temporary data dir, seeds a user and
// the test Jupyter image through the CLI, then BENCH_N times (default 9, after BENCH_WARMUP untimed rounds, default 1),
// Gantry first in even rounds and Docker first in odd ones:
//   Gantry: POST /api/workspaces until it answers 201 with status "running"; POST …/reset until it answers "running";
//           DELETE.
//   Docker: the identical container (image, command, env, user and the whole HostConfig, copied from `docker inspect`
//           of Gantry's container; only the name and labels differ) with the Engine API directly: create + start for
//           a launch, remove + create + start for a reset.
// BENCH_SETTLE_MS (default 0: back to back, as the issue's own figures were taken) makes it wait before every timed
// step, so that what the step before set off (Docker's clean-up of a removed container, Gantry's reconcile of its
// events, a new Jupyter's first second) is over, and a reset finds a workspace that has been up a moment.
// Prints the medians and the ratio Gantry/Docker. Everything it made is removed at the end, also on failure.
import crypto from "node:crypto";
import os from "node:os";
import type Docker from "dockerode";
import { IMAGE, RUN_ID, api, docker, expectStatus, median, runBench, timed } from "./harness";

const N = Number(process.env.BENCH_N ?? 9);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const SETTLE_MS = Number(process.env.BENCH_SETTLE_MS ?? 0);
const settle = () => (SETTLE_MS ? new Promise((r) => setTimeout(r, SETTLE_MS)) : Promise.resolve());
const BENCH_LABEL = "gantry-bench.run";

if (!Number.isInteger(SETTLE_MS) || SETTLE_MS < 0) throw new Error(`BENCH_SETTLE_MS must be a whole number of milliseconds, got ${process.env.BENCH_SETTLE_MS}`);
if (!Number.isInteger(N) || N < 1) throw new Error(`BENCH_N must be a positive whole number, got ${process.env.BENCH_N}`);

/** The create options of Gantry's container, to recreate it identically (but for name and labels) by hand. */
function directSpec(info: Docker.ContainerInspectInfo, name: string): Docker.ContainerCreateOptions {
  const token = crypto.randomBytes(32).toString("hex");
  return {
    name,
    Image: info.Image,
    Cmd: info.Config.Cmd ?? undefined,
    Entrypoint: info.Config.Entrypoint ?? undefined,
    User: info.Config.User,
    WorkingDir: info.Config.WorkingDir,
    Env: (info.Config.Env ?? []).map((e) => (e.startsWith("JUPYTER_TOKEN=") ? `JUPYTER_TOKEN=${token}` : e)),
    ExposedPorts: info.Config.ExposedPorts,
    Labels: { [BENCH_LABEL]: RUN_ID },
    HostConfig: info.HostConfig,
  };
}

async function removeBenchContainers(): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${BENCH_LABEL}=${RUN_ID}`] } });
  for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
}

void runBench(
  "launch-reset",
  async ({ server, user: { token }, imageId }) => {
    const gantry = { launch: [] as number[], reset: [] as number[] };
    const direct = { launch: [] as number[], reset: [] as number[] };
    let spec: Docker.ContainerInspectInfo | undefined;

    for (let i = 0; i < WARMUP + N; i++) {
      const warm = i < WARMUP;
      // Gantry, through its API.
      const viaGantry = async () => {
        await settle();
        const [tLaunch, launched] = await timed(() => api(server, "/api/workspaces", token, "POST", { name: `bench-${i}`, imageId, gpus: 0, memoryGb: 1, cpus: 0.5 }));
        expectStatus("launch", launched, 201);
        if (launched.body.status !== "running") throw new Error(`launch answered status ${launched.body.status}: ${launched.text}`);
        spec ??= await docker.getContainer(launched.body.containerId).inspect();
        await settle();
        const [tReset, reset] = await timed(() => api(server, `/api/workspaces/${launched.body.id}/reset`, token, "POST"));
        expectStatus("reset", reset, 200);
        if (reset.body.status !== "running") throw new Error(`reset answered status ${reset.body.status}: ${reset.text}`);
        expectStatus("delete", await api(server, `/api/workspaces/${launched.body.id}`, token, "DELETE"), 204);
        return { launch: tLaunch, reset: tReset };
      };
      // The same container with the Engine API directly.
      const viaDocker = async () => {
        const name = `gantry-bench-${RUN_ID}-${i}`;
        await settle();
        const [dLaunch, first] = await timed(async () => {
          const c = await docker.createContainer(directSpec(spec!, name));
          await c.start();
          return c;
        });
        await settle();
        const [dReset, second] = await timed(async () => {
          await first.remove({ force: true });
          const c = await docker.createContainer(directSpec(spec!, name));
          await c.start();
          return c;
        });
        await second.remove({ force: true });
        return { launch: dLaunch, reset: dReset };
      };
      // Alternate which goes first (Gantry's first container gives the spec, so the first round starts with it), so
      // that neither always follows the other's clean-up.
      const [g, d] = i % 2 === 0 ? [await viaGantry(), await viaDocker()] : [await viaDocker(), await viaGantry()].reverse();

      const line = `${warm ? "warm-up" : `run ${i - WARMUP + 1}/${N}`}: Gantry launch ${g.launch.toFixed(0)} ms, reset ${g.reset.toFixed(0)} ms; Docker launch ${d.launch.toFixed(0)} ms, reset ${d.reset.toFixed(0)} ms`;
      console.log(line);
      if (warm) continue;
      gantry.launch.push(g.launch);
      gantry.reset.push(g.reset);
      direct.launch.push(d.launch);
      direct.reset.push(d.reset);
    }

    const row = (label: string, g: number[], d: number[]) => {
      const mg = median(g);
      const md = median(d);
      return `${label.padEnd(8)}${mg.toFixed(0).padStart(12)}${md.toFixed(0).padStart(12)}${(mg / md).toFixed(2).padStart(10)}`;
    };
    console.log("");
    console.log(`Median of ${N} runs (${IMAGE}, 1 GB, 0.5 CPU; ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}):`);
    console.log(`${"".padEnd(8)}${"Gantry ms".padStart(12)}${"Docker ms".padStart(12)}${"ratio".padStart(10)}`);
    console.log(row("launch", gantry.launch, direct.launch));
    console.log(row("reset", gantry.reset, direct.reset));
  },
  removeBenchContainers,
);
