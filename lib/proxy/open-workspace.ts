import type { Caller } from "../auth/caller";
import { config } from "../config";
import { signGrant } from "./grant";
import { proxyAccess } from "./proxy-access";

/** The proxy URL that redeems a fresh grant for this caller and workspace, or null if they may not open it. */
export async function openWorkspaceGrant(caller: Caller, workspaceId: string, next: string | null): Promise<string | null> {
  if (!/^ws[0-9a-f]{20}$/.test(workspaceId)) return null;
  const access = await proxyAccess(workspaceId, caller.id);
  if (!access) return null;
  const grant = await signGrant({ workspaceId, userId: caller.id });
  const prefix = `/w/${workspaceId}/`;
  const target = next && next.startsWith(prefix) && !/[\\\u0000-\u001f]/.test(next) ? next : prefix;
  const url = new URL(`${prefix}_gantry/grant`, config.proxyPublicUrl);
  url.searchParams.set("grant", grant);
  url.searchParams.set("next", target);
  return url.toString();
}
