import { PrismaBetterSQLite3 } from "@prisma/adapter-better-sqlite3";
import { PrismaClient } from "./generated/client";
import { config } from "../config";

export type { PrismaClient } from "./generated/client";
export type Tx = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];

// One client per process. The custom server and Next's bundle load this module separately, so the instance
// lives on globalThis; the adapter's transaction mutex only serializes what shares one client.
const globalKey = Symbol.for("gantry.prisma");
type Holder = { [globalKey]?: PrismaClient };

export function db(): PrismaClient {
  const g = globalThis as Holder;
  if (!g[globalKey]) {
    // timeout: how long SQLite waits on another process's write lock before SQLITE_BUSY.
    const adapter = new PrismaBetterSQLite3({ url: config.databaseUrl, timeout: 5000 });
    g[globalKey] = new PrismaClient({ adapter });
  }
  return g[globalKey]!;
}

export async function disconnectDb(): Promise<void> {
  const g = globalThis as Holder;
  await g[globalKey]?.$disconnect();
  delete g[globalKey];
}
