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

export async function listAudit(page: number, pageSize: number) {
  const [total, events] = await Promise.all([
    db().auditEvent.count(),
    db().auditEvent.findMany({ orderBy: [{ at: "desc" }, { id: "desc" }], skip: (page - 1) * pageSize, take: pageSize }),
  ]);
  return {
    page,
    pageSize,
    total,
    events: events.map((e) => ({
      ...e,
      before: e.before ? JSON.parse(e.before) : null,
      after: e.after ? JSON.parse(e.after) : null,
    })),
  };
}
