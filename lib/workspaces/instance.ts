import crypto from "node:crypto";
import os from "node:os";
import { db } from "../db/client";
import { log } from "../log";

// This Gantry process, as lifecycle claims and the usage ledger know it. On globalThis: the custom server and Next's
// route handlers load this module separately but are one process, with one identity.
const key = Symbol.for("gantry.instance");
type Instance = { id: string; host: string; pid: number; startedAt: Date };
type Holder = { [key]?: Instance };

function self(): Instance {
  const g = globalThis as Holder;
  g[key] ??= { id: `${os.hostname()}:${process.pid}:${crypto.randomBytes(4).toString("hex")}`, host: os.hostname(), pid: process.pid, startedAt: new Date() };
  return g[key]!;
}

const liveKey = Symbol.for("gantry.liveClaims");
type LiveHolder = { [liveKey]?: Set<string> };

/** Claims this process's actions hold right now: one of ours is live exactly while it is in here, whatever its lease says. */
export function liveClaims(): Set<string> {
  const g = globalThis as LiveHolder;
  g[liveKey] ??= new Set();
  return g[liveKey]!;
}

export function instanceId(): string {
  return self().id;
}

export function instanceStartedAt(): Date {
  return self().startedAt;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True when the process that owns a claim is certainly gone: a process on this host whose pid no longer exists, or an
 * instance whose heartbeat stopped more than a minute ago. A claim of a live process elsewhere waits out its lease.
 */
export async function ownerIsGone(owner: string | null): Promise<boolean> {
  if (!owner) return true;
  if (owner === instanceId()) return false;
  const [host, pid] = owner.split(":");
  if (host === os.hostname() && Number(pid) !== process.pid) return !pidAlive(Number(pid));
  if (host === os.hostname() && Number(pid) === process.pid) return true; // an earlier life of this pid
  const row = await db().appInstance.findUnique({ where: { id: owner } });
  return !row || Date.now() - row.lastSeenAt.getTime() > 60_000;
}

/**
 * The last time a Gantry process other than this one was known alive (for intervals a crash left open): the named
 * owner's heartbeat when known, else the latest of any other process.
 */
export async function lastSignOfLifeBefore(owner?: string | null): Promise<Date | null> {
  if (owner) {
    const row = await db().appInstance.findUnique({ where: { id: owner } });
    if (row) return row.lastSeenAt;
  }
  const row = await db().appInstance.findFirst({ where: { id: { not: instanceId() } }, orderBy: { lastSeenAt: "desc" } });
  return row?.lastSeenAt ?? null;
}

/** Records this process and its heartbeat every 15 s; returns a stop function. */
export function startHeartbeat(): () => void {
  const me = self();
  const beat = () =>
    db()
      .appInstance.upsert({
        where: { id: me.id },
        create: { id: me.id, host: me.host, pid: me.pid, startedAt: me.startedAt, lastSeenAt: new Date() },
        update: { lastSeenAt: new Date() },
      })
      .catch((e) => log.warn("heartbeat failed", { error: e }));
  void beat();
  // Instances gone for a week tell nothing any more.
  void db().appInstance.deleteMany({ where: { lastSeenAt: { lt: new Date(Date.now() - 7 * 86_400_000) } } }).catch(() => {});
  const timer = setInterval(beat, 15_000);
  timer.unref();
  return () => clearInterval(timer);
}
