import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./paths";

export type CliResult = { code: number | null; stdout: string; stderr: string };

/**
 * Runs the operator CLI exactly as an operator would (`node bin/gantry.mjs …`, which is what `npx gantry` runs)
 * against the given data dir, and collects its output.
 */
export function runCli(dataDir: string, args: string[], opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, GANTRY_DATA_DIR: dataDir, DATABASE_URL: undefined, ...opts.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin", "gantry.mjs"), ...args], {
    cwd: REPO_ROOT,
    env: env as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
  child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`gantry ${args.join(" ")} did not finish within ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI and throws, with its output, unless it exits 0. */
export async function cli(dataDir: string, args: string[]): Promise<string> {
  const result = await runCli(dataDir, args);
  if (result.code !== 0) {
    throw new Error(`gantry ${args.join(" ")} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result.stdout;
}

/** `gantry token create` and return the token (the line after "shown once"). */
export async function createTokenWithCli(dataDir: string, email: string, name = "test"): Promise<string> {
  const out = await cli(dataDir, ["token", "create", "--email", email, "--name", name]);
  const token = out.split("\n").map((l) => l.trim()).find((l) => l.startsWith("gnt_"));
  if (!token) throw new Error(`gantry token create printed no token:\n${out}`);
  return token;
}
