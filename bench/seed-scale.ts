// Fills a Gantry database with a team-sized history: users with quotas (some with GPU-hour budgets), workspaces,
// usage-ledger intervals and audit events. For the scale benchmark (bench/scale.ts) and for trying the pages by hand:
//
//   npx tsx bench/seed-scale.ts [--data-dir DIR] [--users 200] [--workspaces 1000] [--audit 100000] [--intervals 20000]
//
// The database must already exist (start Gantry once on DIR). Seeded workspaces are stopped and have no container, as
// after a reset whose container was removed, so the reconciler leaves them alone; users' password is "seeded-password".
// Everything seeded carries the email domain @seed.gantry, and --remove takes it out again.
import bcrypt from "bcryptjs";
import crypto from "node:crypto";
import path from "node:path";

export type SeedOptions = { users: number; workspaces: number; auditEvents: number; intervals: number };
export const SEED_DEFAULTS: SeedOptions = { users: 200, workspaces: 1000, auditEvents: 100_000, intervals: 20_000 };
export const SEED_PASSWORD = "seeded-password";
export const SEED_DOMAIN = "seed.gantry";

const BATCH = 2000;

function id(prefix: string, i: number): string {
  // cuid-like (lowercase letters and digits, starts with c) so every id validator accepts it.
  return `c${prefix}${i.toString(36).padStart(6, "0")}${crypto.randomBytes(6).toString("hex")}`;
}

async function inBatches<T>(rows: T[], write: (batch: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += BATCH) await write(rows.slice(i, i + BATCH));
}

/** Seeds the database of the Gantry data dir `dataDir`. Returns the seeded users' emails (the first is a plain user). */
export async function seedScale(dataDir: string, opts: SeedOptions = SEED_DEFAULTS): Promise<{ emails: string[] }> {
  process.env.GANTRY_DATA_DIR = path.resolve(dataDir);
  const { db } = await import("../lib/db/client");
  const prisma = db();
  const run = crypto.randomBytes(3).toString("hex");
  const passwordHash = await bcrypt.hash(SEED_PASSWORD, 10);
  const image =
    (await prisma.image.findFirst({ orderBy: { createdAt: "asc" } })) ??
    (await prisma.image.create({ data: { name: `seed-${run}`, ref: "gantry/test-busybox:1", command: "sleep infinity" } }));

  const now = Date.now();
  const users = Array.from({ length: opts.users }, (_, i) => ({
    id: id("u", i),
    email: `user${i}-${run}@${SEED_DOMAIN}`,
    name: `Seeded user ${i}`,
    passwordHash,
    // One admin in twenty, as on a real team.
    role: i % 20 === 19 ? "admin" : "user",
    createdAt: new Date(now - (opts.users - i) * 60_000),
  }));
  await inBatches(users, (b) => prisma.user.createMany({ data: b }));
  // Half the users have their own quota; one in four of those has a GPU-hour budget.
  const quotas = users
    .filter((_, i) => i % 2 === 0)
    .map((u, i) => ({ userId: u.id, maxGpus: 2, maxMemoryGb: 64, maxCpus: 16, maxWorkspaces: 10, gpuHoursBudget: i % 4 === 0 ? 100 : null, budgetPeriod: i % 8 === 0 ? "month" : "week" }));
  await inBatches(quotas, (b) => prisma.quota.createMany({ data: b }));

  const workspaces = Array.from({ length: opts.workspaces }, (_, i) => {
    const user = users[i % users.length];
    return {
      id: id("w", i),
      userId: user.id,
      name: `ws-${Math.floor(i / users.length)}`,
      imageId: image.id,
      imageRef: image.ref,
      gpus: i % 3 === 0 ? 1 : 0,
      memoryGb: 4,
      cpus: 2,
      status: "stopped",
      statusMessage: "Stopped.",
      containerName: `gantry-seed-${run}-${i}`,
      jupyterToken: crypto.randomBytes(16).toString("hex"),
      createdAt: new Date(now - (opts.workspaces - i) * 1000),
    };
  });
  await inBatches(workspaces, (b) => prisma.workspace.createMany({ data: b }));

  // The ledger: closed intervals over the last 30 days, a GPU on one in three.
  const intervals = Array.from({ length: opts.intervals }, (_, i) => {
    const ws = workspaces[i % workspaces.length];
    const user = users[workspaces.indexOf(ws) % users.length];
    const startedAt = now - ((i * 7919) % (30 * 86_400_000));
    return {
      workspaceId: ws.id,
      workspaceName: ws.name,
      userId: ws.userId,
      userEmail: user.email,
      gpuUuids: ws.gpus ? JSON.stringify([`GPU-seed-${i % 8}`]) : "[]",
      gpus: ws.gpus,
      memoryGb: ws.memoryGb,
      cpus: ws.cpus,
      startedAt: new Date(startedAt),
      endedAt: new Date(Math.min(now, startedAt + 3_600_000 * (1 + (i % 5)))),
      endReason: "stopped",
    };
  });
  await inBatches(intervals, (b) => prisma.usageInterval.createMany({ data: b }));

  const actions = ["workspace.launch", "workspace.stop", "workspace.start", "workspace.reset", "auth.login"];
  const audit = Array.from({ length: opts.auditEvents }, (_, i) => {
    const ws = workspaces[i % workspaces.length];
    const user = users[i % users.length];
    return {
      at: new Date(now - (opts.auditEvents - i) * 10_000),
      actorId: user.id,
      actorEmail: user.email,
      action: actions[i % actions.length],
      targetType: "workspace",
      targetId: ws.id,
      after: JSON.stringify({ name: ws.name, status: "running" }),
    };
  });
  await inBatches(audit, (b) => prisma.auditEvent.createMany({ data: b }));
  return { emails: users.map((u) => u.email) };
}

/** Takes out everything seedScale put in (users cascade to their quotas and workspaces). */
export async function removeSeed(dataDir: string): Promise<void> {
  process.env.GANTRY_DATA_DIR = path.resolve(dataDir);
  const { db } = await import("../lib/db/client");
  const prisma = db();
  const users = await prisma.user.findMany({ where: { email: { endsWith: `@${SEED_DOMAIN}` } }, select: { id: true } });
  const ids = users.map((u) => u.id);
  await prisma.usageInterval.deleteMany({ where: { userId: { in: ids } } });
  await prisma.auditEvent.deleteMany({ where: { actorId: { in: ids } } });
  await prisma.user.deleteMany({ where: { id: { in: ids } } });
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const dataDir = arg("data-dir") ?? process.env.GANTRY_DATA_DIR ?? "data";
  const count = (name: string, fallback: number) => {
    const v = arg(name);
    const n = v === undefined ? fallback : Number(v);
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} takes a whole number, not ${v}`);
    return n;
  };
  const main = async () => {
    if (process.argv.includes("--remove")) {
      await removeSeed(dataDir);
      console.log(`Removed the seeded users, workspaces, intervals and audit events from ${dataDir}.`);
      return;
    }
    const opts = {
      users: count("users", SEED_DEFAULTS.users),
      workspaces: count("workspaces", SEED_DEFAULTS.workspaces),
      auditEvents: count("audit", SEED_DEFAULTS.auditEvents),
      intervals: count("intervals", SEED_DEFAULTS.intervals),
    };
    if (opts.users === 0 && opts.workspaces > 0) throw new Error("--workspaces needs at least one user");
    const t0 = Date.now();
    await seedScale(dataDir, opts);
    console.log(`Seeded ${opts.users} users, ${opts.workspaces} workspaces, ${opts.intervals} usage intervals and ${opts.auditEvents} audit events into ${dataDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s (password "${SEED_PASSWORD}").`);
  };
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(`seed-scale: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
