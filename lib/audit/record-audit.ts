import { db, type Tx } from "../db/client";

export type Actor = { id: string; email: string } | null;

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
