import { ApiError } from "../errors";
import { db, type Tx } from "../db/client";

/** Who did it: a user, a named system actor (background work: the reconciler, later the idle culler), or nobody known. */
export type Actor = { id: string | null; email: string } | null;

/** Background work in the audit log: no user id, and an email-like name that says which part of Gantry acted. */
export function systemActor(name: string): Actor {
  return { id: null, email: `system:${name}` };
}

const SECRET_FIELDS = new Set(["passwordHash", "jupyterToken", "tokenHash", "password", "token"]);

function redact(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (k, v) => (SECRET_FIELDS.has(k) ? undefined : v));
}

export type AuditInput = {
  actor: Actor;
  action: string;
  targetType: string;
  targetId?: string | null;
  before?: unknown;
  after?: unknown;
};

/** Records who did what, with the before and after state (secrets stripped). Pass the transaction that made the change. */
export async function recordAudit(client: Tx | ReturnType<typeof db>, input: AuditInput): Promise<void> {
  await client.auditEvent.create({
    data: {
      actorId: input.actor?.id ?? null,
      actorEmail: input.actor?.email ?? null,
      action: input.action,
      targetType: input.targetType,
      targetId: input.targetId ?? null,
      before: redact(input.before),
      after: redact(input.after),
    },
  });
}

/** An opaque position in the log (the last event a page showed): its time and id, newest-first order. */
export function auditCursor(e: { at: Date; id: string }): string {
  return Buffer.from(`${e.at.toISOString()}|${e.id}`).toString("base64url");
}

function parseCursor(cursor: string): { at: Date; id: string } {
  const [iso, id, extra] = Buffer.from(cursor, "base64url").toString().split("|");
  const at = new Date(iso ?? "");
  if (extra !== undefined || !id || Number.isNaN(at.getTime())) throw new ApiError("validation_failed", "cursor: not a cursor this API gave out (use nextCursor from a previous page).");
  return { at, id };
}

/**
 * One page of the log, newest first: by page number (what the admin page links to), or after a cursor (nextCursor of
 * the page before), which costs the same however deep it goes.
 */
export async function listAudit(page: number, pageSize: number, cursor?: string) {
  const after = cursor ? parseCursor(cursor) : null;
  const [total, events] = await Promise.all([
    db().auditEvent.count(),
    db().auditEvent.findMany({
      where: after ? { OR: [{ at: { lt: after.at } }, { at: after.at, id: { lt: after.id } }] } : undefined,
      orderBy: [{ at: "desc" }, { id: "desc" }],
      skip: after ? 0 : (page - 1) * pageSize,
      take: pageSize,
    }),
  ]);
  const last = events.length === pageSize ? events[events.length - 1] : null;
  return {
    page: after ? null : page,
    pageSize,
    total,
    nextCursor: last ? auditCursor(last) : null,
    events: events.map((e) => ({
      ...e,
      before: e.before ? JSON.parse(e.before) : null,
      after: e.after ? JSON.parse(e.after) : null,
    })),
  };
}
