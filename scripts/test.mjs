#!/usr/bin/env node
// `npm test`: the whole suite, in order, on a clean clone.
//   1. dependencies (npm ci when node_modules is missing), prisma generate, next build (always: simple and correct)
//   2. unit (vitest), integration (vitest: real server, CLI, SQLite and Docker), e2e (Playwright: real app in Chromium)
// Stops at the first layer that fails, with a non-zero exit. The last line is always "N passed, M failed", totals over
// the layers that ran, read from the runners' JSON reports (their usual console output is kept as well).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(ROOT);
process.env.NEXT_TELEMETRY_DISABLED ??= "1";

const reports = fs.mkdtempSync(path.join(os.tmpdir(), "gantry-test-reports-"));
const totals = { passed: 0, failed: 0 };
const timings = [];
let current = null;

// Ctrl-C reaches the children through the terminal; a plain kill of this process is passed on.
for (const signal of ["SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    current?.kill(signal);
    finish(1, `interrupted by ${signal}`);
  });
}

function run(command, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: "inherit", env: { ...process.env, ...env } });
    current = child;
    child.on("error", (e) => {
      console.error(`[test] cannot run ${command}: ${e.message}`);
      resolve(127);
    });
    child.on("close", (code, signal) => {
      current = null;
      resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
}

async function step(name, command, args, env) {
  console.log(`\n[test] === ${name}: ${[command, ...args].join(" ")}`);
  const t0 = Date.now();
  const code = await run(command, args, env);
  const seconds = (Date.now() - t0) / 1000;
  timings.push({ name, seconds, code });
  console.log(`[test] --- ${name}: ${code === 0 ? "ok" : `exit ${code}`} after ${seconds.toFixed(1)} s`);
  return code;
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

/** Counts from a vitest JSON report, or null when there is none. */
function vitestCounts(file) {
  const r = readJson(file);
  if (!r) return null;
  const brokenFiles = (r.testResults ?? []).filter((t) => t.status === "failed" && (t.assertionResults ?? []).every((a) => a.status !== "failed")).length;
  return { passed: r.numPassedTests ?? 0, failed: (r.numFailedTests ?? 0) + brokenFiles };
}

/** Counts from a Playwright JSON report, or null when there is none. */
function playwrightCounts(file) {
  const r = readJson(file);
  if (!r?.stats) return null;
  return { passed: (r.stats.expected ?? 0) + (r.stats.flaky ?? 0), failed: (r.stats.unexpected ?? 0) + (r.errors?.length ?? 0) };
}

function finish(code, reason) {
  if (timings.length) {
    console.log("\n[test] timings:");
    for (const t of timings) console.log(`[test]   ${t.name.padEnd(12)} ${t.seconds.toFixed(1).padStart(7)} s  ${t.code === 0 ? "ok" : `FAILED (exit ${t.code})`}`);
  }
  if (reason) console.log(`[test] ${reason}`);
  fs.rmSync(reports, { recursive: true, force: true });
  console.log(`${totals.passed} passed, ${totals.failed} failed`);
  process.exit(code);
}

async function prepare(name, command, args) {
  const code = await step(name, command, args);
  if (code !== 0) {
    // No test ran; the broken step counts as the one failure so the summary never reads "0 failed" on a red run.
    totals.failed += 1;
    finish(code, `stopped: ${name} failed`);
  }
}

async function layer(name, command, args, reportFile, count, env) {
  const code = await step(name, command, args, env);
  const counts = count(reportFile);
  if (counts) {
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    console.log(`[test] ${name}: ${counts.passed} passed, ${counts.failed} failed`);
  }
  if (code !== 0) {
    // A layer can fail before reporting any test (its global setup refused to run): still count it.
    if (!counts || counts.failed === 0) totals.failed += 1;
    finish(code, `stopped: the ${name} layer failed`);
  }
}

if (!fs.existsSync(path.join(ROOT, "node_modules"))) await prepare("npm ci", "npm", ["ci"]);
await prepare("prisma", "npx", ["prisma", "generate"]);
await prepare("build", "npx", ["next", "build"]);

const vitest = (project, file) => ["vitest", "run", "--project", project, "--reporter=default", "--reporter=json", `--outputFile.json=${file}`];
const unitReport = path.join(reports, "unit.json");
const integrationReport = path.join(reports, "integration.json");
const e2eReport = path.join(reports, "e2e.json");
await layer("unit", "npx", vitest("unit", unitReport), unitReport, vitestCounts);
await layer("integration", "npx", vitest("integration", integrationReport), integrationReport, vitestCounts);
await layer("e2e", "npx", ["playwright", "test", "--reporter=list,json"], e2eReport, playwrightCounts, { PLAYWRIGHT_JSON_OUTPUT_FILE: e2eReport });
finish(0);
