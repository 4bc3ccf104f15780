import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

// Two layers, run separately by scripts/test.mjs (`npm run test:unit`, `npm run test:integration`):
// - unit: pure rules next to the code, no Docker, no server, no database file.
// - integration: the real server process, the real CLI, a real SQLite file and the real Docker engine.
export default defineConfig({
  resolve: {
    alias: { "@/": root },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          environment: "node",
          include: ["lib/**/*.test.ts", "cli/**/*.test.ts"],
          exclude: ["lib/db/generated/**", "node_modules/**"],
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          environment: "node",
          include: ["tests/integration/**/*.test.ts"],
          globalSetup: ["tests/integration/global-setup.ts"],
          setupFiles: ["tests/helpers/localhost-names.ts"],
          // The files share one Docker engine (and a 2-core CI machine); each starts real server processes.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
