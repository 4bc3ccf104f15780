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
    // timeout: how long SQLite waits on another process's write lock before SQLITE_BUSY. better-sqlite3 waits
    // synchronously, blocking the whole server, so the wait is kept short: past it the request gets a clean 503.
    const factory = new PrismaBetterSQLite3({ url: config.databaseUrl, timeout: 2000 });
    g[globalKey] = new PrismaClient({ adapter: withImmediateTransactions(factory) });
  }
  return g[globalKey]!;
}

type Factory = InstanceType<typeof PrismaBetterSQLite3>;
type Connection = { client?: { prepare: (sql: string) => unknown; pragma: (sql: string) => unknown } };

/**
 * The adapter opens transactions with a plain BEGIN. A transaction that reads and then writes while another
 * process holds the write lock then fails with SQLITE_BUSY at once, without waiting out the busy timeout.
 * BEGIN IMMEDIATE takes the write lock up front, so the timeout applies and writers queue instead of failing.
 */
function withImmediateTransactions(factory: Factory): Factory {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    const conn = adapter as unknown as Connection;
    if (conn.client) {
      // Write-ahead logging: readers never wait for a writer (the dashboard keeps serving while a launch commits), and
      // a commit is one append instead of the rollback journal's several fsyncs. synchronous=NORMAL keeps the database
      // consistent through an application crash; a power cut may lose the last commits, which the reconciler's next
      // pass corrects from Docker for what matters (statuses, GPUs). journal_mode is stored in the file.
      conn.client.pragma("journal_mode = WAL");
      conn.client.pragma("synchronous = NORMAL");
      const prepare = conn.client.prepare.bind(conn.client) as (sql: string) => { run: () => unknown };
      conn.client.prepare = (sql: string) => {
        if (sql !== "BEGIN") return prepare(sql);
        return {
          run: () => {
            try {
              return prepare("BEGIN IMMEDIATE").run();
            } catch (e) {
              // Still locked after the busy timeout. The adapter holds its transaction mutex here and would never
              // release it if BEGIN threw, so open a deferred transaction instead: its first write fails with
              // SQLITE_BUSY, the transaction rolls back and releases the mutex, and the caller gets a clean 503.
              if (!/SQLITE_BUSY|locked/i.test(String((e as { code?: string; message?: string }).code ?? "") + (e as Error).message)) throw e;
              return prepare("BEGIN").run();
            }
          },
        };
      };
    }
    return adapter;
  };
  return factory;
}

export async function disconnectDb(): Promise<void> {
  const g = globalThis as Holder;
  await g[globalKey]?.$disconnect();
  delete g[globalKey];
}
