#!/usr/bin/env node
// `npm start` (and `npm run dev`): brings a fresh clone or a changed checkout up to date, then runs the server.
//   npm ci          when node_modules is missing
//   prisma generate when lib/db/generated is missing or prisma/schema.prisma is newer than it
//   next build      when .next/BUILD_ID is missing, a source file is newer than it, or --rebuild is given
//                   (not in --dev: the development server compiles on demand)
//   the server      dist/server.mjs (scripts/build-server.mjs) when it is missing or older than its sources
// then becomes the server: it imports dist/server.mjs into this very process, so `npm start` is one Node process
// (besides npm) with no TypeScript compiler loaded, and `kill`, Ctrl-C, systemd and Docker's stop reach the server
// directly. `npm run dev` runs `tsx server.ts --dev` as a child instead (the development server compiles on demand).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
process.chdir(ROOT);

const USAGE = "usage: npm start [-- --rebuild]   |   npm run dev";
const args = process.argv.slice(2);
for (const a of args) {
  if (a !== "--dev" && a !== "--rebuild") {
    console.error(`start: unknown option ${a}\n${USAGE}`);
    process.exit(2);
  }
}
const dev = args.includes("--dev");
const rebuild = args.includes("--rebuild");

process.env.NODE_ENV ??= dev ? "development" : "production";
process.env.NEXT_TELEMETRY_DISABLED ??= "1";

function say(message) {
  console.log(`[start] ${message}`);
}

function runOrExit(command, commandArgs) {
  say(`${command} ${commandArgs.join(" ")}`);
  // next build refuses to run with NODE_ENV=development; the build is always a production build.
  const env = command === "npx" && commandArgs[0] === "next" ? { ...process.env, NODE_ENV: "production" } : process.env;
  const result = spawnSync(command, commandArgs, { stdio: "inherit", env });
  if (result.status !== 0) {
    console.error(`[start] ${command} ${commandArgs.join(" ")} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}); Gantry was not started.`);
    process.exit(result.status || 1);
  }
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** The newest modification time under the given files and folders (tests excluded: they are not in the build). */
function newest(paths) {
  let latest = 0;
  const visit = (p) => {
    let st;
    try {
      st = fs.statSync(p);
    } catch {
      return;
    }
    if (st.isDirectory()) {
      for (const entry of fs.readdirSync(p)) {
        if (entry === "node_modules" || entry.startsWith(".")) continue;
        visit(path.join(p, entry));
      }
    } else if (!/\.test\.[cm]?[jt]sx?$/.test(p)) {
      latest = Math.max(latest, st.mtimeMs);
    }
  };
  for (const p of paths) visit(path.join(ROOT, p));
  return latest;
}

if (!fs.existsSync(path.join(ROOT, "node_modules"))) runOrExit("npm", ["ci"]);

const generated = path.join(ROOT, "lib", "db", "generated", "client.ts");
if (!fs.existsSync(generated) || mtime(path.join(ROOT, "prisma", "schema.prisma")) > mtime(generated)) {
  runOrExit("npx", ["prisma", "generate"]);
}

if (!dev) {
  const buildId = path.join(ROOT, ".next", "BUILD_ID");
  const sources = ["app", "lib", "components", "public", "next.config.mjs", "postcss.config.mjs", "tsconfig.json", "tsconfig.build.json", "package-lock.json"];
  if (rebuild) runOrExit("npx", ["next", "build"]);
  else if (!fs.existsSync(buildId)) {
    say("no production build yet");
    runOrExit("npx", ["next", "build"]);
  } else if (newest(sources) > mtime(buildId)) {
    say("sources changed since the last build");
    runOrExit("npx", ["next", "build"]);
  }
}

if (!dev) {
  // Built in a child process, like next build: nothing of esbuild stays in (or beside) the server.
  const SERVER_BUNDLE = path.join(ROOT, "dist", "server.mjs");
  const serverSources = ["server.ts", "lib", "tsconfig.json", "package-lock.json", "scripts/build-server.mjs"];
  if (rebuild || !fs.existsSync(SERVER_BUNDLE) || newest(serverSources) > mtime(SERVER_BUNDLE)) runOrExit("node", ["scripts/build-server.mjs"]);
  say("node dist/server.mjs (in this process)");
  await import(pathToFileURL(SERVER_BUNDLE).href);
} else {
  // The project's own tsx, not `npx tsx`: npm exec dies on SIGTERM without passing it on, which would leave the
  // server running without this script. tsx relays signals to the server process.
  const serverArgs = ["server.ts", "--dev"];
  say(`tsx ${serverArgs.join(" ")}`);
  const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), serverArgs, { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (e) => {
    console.error(`[start] cannot run tsx server.ts: ${e.message}`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => {
    process.exit(code ?? 128 + (signal ? os.constants.signals[signal] ?? 0 : 1));
  });
}
