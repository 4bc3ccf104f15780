import { db, type Tx } from "../db/client";
import { ApiError } from "../errors";
import type { WorkspaceStatus } from "./workspace-schemas";

/**
 * Moves a workspace from one of `from` to `to` in a single conditional UPDATE, so two concurrent actions can
 * never both start work on the same workspace. Throws 409 naming the current status otherwise.
 */
export async function claimTransition(
  id: string,
  from: WorkspaceStatus[],
  to: WorkspaceStatus,
  action: string,
  client: Tx | ReturnType<typeof db> = db(),
): Promise<void> {
  const { count } = await client.workspace.updateMany({ where: { id, status: { in: from } }, data: { status: to, statusMessage: "" } });
  if (count === 0) {
    const current = await client.workspace.findUnique({ where: { id }, select: { status: true } });
    throw new ApiError("conflict", `Cannot ${action} this workspace while it is ${current?.status ?? "gone"}.`, { status: current?.status });
  }
}
