import fs from "node:fs";
import path from "node:path";
import { makeDataDir } from "../tests/helpers/data-dir";
import { startServer } from "../tests/helpers/gantry-server";
import { assertDockerReachable, assertProductionBuild } from "../tests/helpers/prerequisites";
import { cli, createTokenWithCli } from "../tests/helpers/run-cli";
import { JUPYTER_COMMAND, JUPYTER_IMAGE } from "../tests/helpers/workspaces";
import { ARTIFACTS_DIR, HARNESS_FILE, type Harness } from "./harness";
import { ADMIN, USER } from "./seed";

// Starts the real app once for all specs (`node dist/server.mjs` on a free port, fresh data dir, known admin) and seeds
// it with the operator CLI: a regular user, the admin's API token and the test Jupyter image. What the specs need
// goes to e2e/.auth/harness.json (workers are separate processes). The returned function is the global teardown.
export default async function globalSetup(): Promise<() => Promise<void>> {
  await assertDockerReachable("e2e tests (the workspace specs launch real containers)");
  assertProductionBuild();

  const dataDir = makeDataDir("gantry-e2e-");
  const logFile = path.join(ARTIFACTS_DIR, "server.log");
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  fs.rmSync(logFile, { force: true });
  // The stand-in nvidia-smi's telemetry values: the specs write this file, the sampler reads it (once a second here).
  const telemetryFile = path.join(path.dirname(dataDir.path), `${path.basename(dataDir.path)}-telemetry.csv`);
  fs.writeFileSync(telemetryFile, "");
  const server = await startServer({
    dataDir: dataDir.path,
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
    logFile,
    // A second stands for an idle setting's minute (idle culling is off until e2e/idle-culling.spec.ts turns it on).
    env: { GANTRY_TELEMETRY_INTERVAL_MS: "1000", GANTRY_FAKE_GPU_TELEMETRY: telemetryFile, GANTRY_IDLE_MINUTE_MS: "1000", GANTRY_IDLE_CHECK_MS: "500" },
  });
  const teardown = async () => {
    await server.stop();
    dataDir.remove();
    fs.rmSync(telemetryFile, { force: true });
    fs.rmSync(HARNESS_FILE, { force: true });
  };

  try {
    await cli(dataDir.path, ["user", "create", "--email", USER.email, "--password", USER.password, "--name", USER.name]);
    const token = await createTokenWithCli(dataDir.path, ADMIN.email, "e2e");
    const ref = process.env.GANTRY_TEST_IMAGE_JUPYTER ?? JUPYTER_IMAGE;
    const added = await cli(dataDir.path, ["image", "add", "--name", "Test Jupyter", "--ref", ref, "--command", JUPYTER_COMMAND]);
    const imageId = /\(([a-z0-9]+)\)\s*$/.exec(added)?.[1];
    if (!imageId) throw new Error(`gantry image add printed no id: ${added}`);

    const harness: Harness = {
      url: server.url,
      dataDir: dataDir.path,
      logFile,
      telemetryFile,
      admin: { ...ADMIN, token },
      image: { id: imageId, name: "Test Jupyter", ref },
    };
    fs.mkdirSync(path.dirname(HARNESS_FILE), { recursive: true });
    fs.writeFileSync(HARNESS_FILE, JSON.stringify(harness, null, 2) + "\n", { mode: 0o600 });
  } catch (e) {
    await teardown();
    throw e;
  }
  console.log(`[e2e] Gantry at ${server.url} (data ${dataDir.path}, server log ${logFile})`);
  return teardown;
}
