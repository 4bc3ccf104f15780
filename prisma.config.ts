import path from "node:path";
import { defineConfig } from "prisma/config";
import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";

// The CLI (generate, migrate deploy) runs through the driver adapter: no native engine is downloaded.
function databaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const dir = path.resolve(process.env.GANTRY_DATA_DIR ?? "./data");
  return `file:${path.join(dir, "gantry.db")}`;
}
process.env.DATABASE_URL ??= databaseUrl();

export default defineConfig({
  experimental: { adapter: true },
  engine: "js",
  schema: path.join("prisma", "schema.prisma"),
  adapter: async () => new PrismaBetterSQLite3({ url: databaseUrl() }),
});
