#!/usr/bin/env node
// Runs the TypeScript CLI through tsx from the project root, so `npx gantry …` works without a build step.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const result = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "cli", "gantry.ts"), ...process.argv.slice(2)], {
  stdio: "inherit",
  cwd: process.env.GANTRY_CLI_CWD ?? process.cwd(),
  env: { ...process.env, GANTRY_LOG: process.env.GANTRY_LOG ?? "silent" },
});
process.exit(result.status ?? 1);
