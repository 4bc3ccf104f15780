import type { Caller } from "../auth/caller";
import { signGrant } from "./grant";
import { proxyAccess } from "./proxy-access";
import { safeWorkspacePath } from "./safe-workspace-path";
import { workspaceOrigin } from "./workspace-origin";

/** The proxy URL that redeems a fresh grant for this caller and workspace, or null if they may not open it. */
export async function openWorkspaceGrant(caller: Caller, workspaceId: string, next: string | null): Promise<string | null> {
  if (!/^ws[0-9a-f]{20}$/.test(workspaceId)) return null;
  const access = await proxyAccess(workspaceId, caller.id, { fresh: true });
  if (!access) return null;
  const grant = await signGrant({ workspaceId, userId: caller.id });
  const url = new URL(`/w/${workspaceId}/_gantry/grant`, workspaceOrigin(workspaceId));
  url.searchParams.set("grant", grant);
  url.searchParams.set("next", safeWorkspacePath(workspaceId, next));
  return url.toString();
}
