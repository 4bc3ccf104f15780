import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import Docker from "dockerode";
import { REPO_ROOT } from "./paths";

/** Where dockerode will connect: DOCKER_HOST if set, else the default socket. */
export function dockerAddress(): string {
  return process.env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/**
 * Throws unless the Docker engine answers a ping. Integration and e2e tests need a real engine; a missing one is a
 * failure with a reason, never a silent skip.
 */
export async function assertDockerReachable(who = "integration tests", timeoutMs = 5000): Promise<void> {
  const address = dockerAddress();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      new Docker().ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    throw new Error(
      `Docker engine unreachable at ${address}: ${who} need a running dockerd ` +
        `(see scripts/ci/start-dockerd.sh). Cause: ${(e as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Throws unless `next build` has produced a production build, and compiles the server (dist/server.mjs, about a
 * second) from the sources as they are now: the test servers run both, as `npm start` does.
 */
export function assertProductionBuild(): void {
  const buildId = path.join(REPO_ROOT, ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) {
    throw new Error(`No production build at ${buildId}: run \`npx next build\` first (\`npm test\` does it for you).`);
  }
  const built = spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts", "build-server.mjs")], { cwd: REPO_ROOT, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`node scripts/build-server.mjs failed: ${built.stderr || built.stdout}`);
}
