#!/usr/bin/env node
// Compiles server.ts and the lib/ code it imports into one JavaScript file, dist/server.mjs, so the running server
// needs no TypeScript compiler (no tsx, no esbuild service process) and starts without transpiling anything.
// Packages under node_modules stay outside the bundle and load as usual. Part of `npm run build`; `npm start` runs it
// when dist/server.mjs is missing or older than its sources.
//   node scripts/build-server.mjs
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const SERVER_BUNDLE = path.join(ROOT, "dist", "server.mjs");

export async function buildServer() {
  await build({
    absWorkingDir: ROOT,
    entryPoints: ["server.ts"],
    outfile: SERVER_BUNDLE,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Every package stays a runtime import from node_modules (Next, Prisma's runtime, dockerode, ssh2, …): only
    // Gantry's own TypeScript (and Prisma's generated client in lib/db/generated) is compiled in.
    packages: "external",
    tsconfig: "tsconfig.json",
    sourcemap: "linked",
    // Some bundled code still calls require() (CommonJS interop); an ES module has none of its own.
    banner: { js: 'import { createRequire as __gantryCreateRequire } from "node:module"; const require = __gantryCreateRequire(import.meta.url);' },
    logLevel: "warning",
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  buildServer().then(
    () => console.log(`[build-server] ${path.relative(ROOT, SERVER_BUNDLE)} in ${Date.now() - t0} ms`),
    (e) => {
      console.error(`[build-server] failed: ${e.message}`);
      process.exit(1);
    },
  );
}
