import { db, type Tx } from "../db/client";
import { Prisma, type Workspace } from "../db/generated/client";

// The lifecycle runner's reads and writes of one workspace row, in SQL. Each action reads its row (with catalog
// image, owner and GPUs) two or three times and writes it three to five times; through Prisma's model API a read
// with those relations cost ~2.7 ms and an updateMany ~1.5 ms under Next.js, the same statements raw ~0.5 and ~0.3
// (bench/launch-reset.ts, with a trace around each step). Dates and booleans come back typed: the driver adapter
// reads the declared column types, as Prisma does for its own queries.

type Client = Tx | ReturnType<typeof db>;

/** What a runner's row carries besides the workspace's own columns. */
export const workspaceInclude = {
  image: { select: { id: true, name: true, ref: true } },
  allocations: { include: { gpu: { select: { index: true, uuid: true } } } },
  user: { select: { id: true, email: true, name: true } },
} as const;

export type WorkspaceRow = Prisma.WorkspaceGetPayload<{ include: typeof workspaceInclude }>;

type Joined = Workspace & { _imageName: string; _imageRef: string; _userEmail: string; _userName: string };
type Allocation = { gpuUuid: string; workspaceId: string; userId: string; createdAt: Date; _index: number };

/** The workspace with its catalog image, owner and GPUs (as Prisma's include of workspaceInclude), or null. */
export async function loadWorkspace(id: string, client: Client = db()): Promise<WorkspaceRow | null> {
  const rows = await client.$queryRaw<Joined[]>`
    SELECT w.*, i."name" AS "_imageName", i."ref" AS "_imageRef", u."email" AS "_userEmail", u."name" AS "_userName"
    FROM "Workspace" w JOIN "Image" i ON i."id" = w."imageId" JOIN "User" u ON u."id" = w."userId"
    WHERE w."id" = ${id}`;
  const row = rows[0];
  if (!row) return null;
  const held = await client.$queryRaw<Allocation[]>`
    SELECT a."gpuUuid", a."workspaceId", a."userId", a."createdAt", g."index" AS "_index"
    FROM "GpuAllocation" a JOIN "Gpu" g ON g."uuid" = a."gpuUuid" WHERE a."workspaceId" = ${id} ORDER BY g."index"`;
  const { _imageName, _imageRef, _userEmail, _userName, ...ws } = row;
  return {
    ...ws,
    image: { id: ws.imageId, name: _imageName, ref: _imageRef },
    user: { id: ws.userId, email: _userEmail, name: _userName },
    allocations: held.map((a) => ({
      gpuUuid: a.gpuUuid,
      workspaceId: a.workspaceId,
      userId: a.userId,
      createdAt: a.createdAt,
      gpu: { index: Number(a._index), uuid: a.gpuUuid },
    })),
  };
}

const COLUMNS: ReadonlySet<string> = new Set(Object.values(Prisma.WorkspaceScalarFieldEnum));

/** Which row a write is for: the workspace, and the claim (or its absence) and status it must still be in. */
export type RowCondition = { id: string; actionId?: string | null; status?: string; cancelRequested?: boolean; containerId?: string };

/**
 * Writes `fields` to the workspace if it still meets `where`; the number of rows written (0 or 1). updatedAt is
 * written too (now, unless given), as Prisma's @updatedAt does. Field names are checked against the model's columns.
 */
export async function updateWorkspace(client: Client, where: RowCondition, fields: Partial<Workspace>): Promise<number> {
  const set: Prisma.Sql[] = [];
  for (const [column, value] of Object.entries({ ...fields, updatedAt: fields.updatedAt ?? new Date() })) {
    if (value === undefined) continue;
    if (!COLUMNS.has(column) || column === "id") throw new Error(`updateWorkspace: "${column}" is not a column it may write`);
    set.push(Prisma.sql`${Prisma.raw(`"${column}"`)} = ${value}`);
  }
  const conditions = [Prisma.sql`"id" = ${where.id}`];
  if (where.actionId !== undefined) conditions.push(where.actionId === null ? Prisma.sql`"actionId" IS NULL` : Prisma.sql`"actionId" = ${where.actionId}`);
  if (where.status !== undefined) conditions.push(Prisma.sql`"status" = ${where.status}`);
  if (where.cancelRequested !== undefined) conditions.push(Prisma.sql`"cancelRequested" = ${where.cancelRequested}`);
  if (where.containerId !== undefined) conditions.push(Prisma.sql`"containerId" = ${where.containerId}`);
  return client.$executeRaw`UPDATE "Workspace" SET ${Prisma.join(set)} WHERE ${Prisma.join(conditions, " AND ")}`;
}
