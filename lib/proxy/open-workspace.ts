import type { Caller } from "../auth/caller";
import { browserBinding, signGrant } from "./grant";
import { proxyAccess } from "./proxy-access";
import { safeWorkspacePath } from "./safe-workspace-path";
import { workspaceOrigin } from "./workspace-origin";

export type OpenAnswer =
  | { kind: "redirect"; location: string }
  | { kind: "not_found" }
  /** An API token, or a session from before sessions had ids: workspaces open in a signed-in browser only. */
  | { kind: "browser_only" };

const STATE = /^[A-Za-z0-9_-]{32}$/;

/**
 * The dashboard's half of the handshake. The proxy starts it: it sets a nonce cookie in the browser and sends it
 * here with the nonce as `state`; the grant signed here carries the nonce's hash and the caller's dashboard session,
 * so only that browser can redeem it, and the proxy session it yields ends with that dashboard session. Without a
 * state (a bookmark, an old link), the browser is sent to the proxy's _gantry/start, which starts it properly.
 */
export async function openWorkspace(caller: Caller, workspaceId: string, next: string | null, state: string | null): Promise<OpenAnswer> {
  if (!/^ws[0-9a-f]{20}$/.test(workspaceId)) return { kind: "not_found" };
  // Someone else's workspace is a 404 whoever asks, as everywhere; only then does the kind of credential matter.
  const access = await proxyAccess(workspaceId, caller.id, { fresh: true });
  if (!access) return { kind: "not_found" };
  if (caller.via !== "session" || !caller.session) return { kind: "browser_only" };
  const landing = safeWorkspacePath(workspaceId, next);
  if (!state || !STATE.test(state)) {
    const start = new URL(`/w/${workspaceId}/_gantry/start`, workspaceOrigin(workspaceId));
    start.searchParams.set("next", landing);
    return { kind: "redirect", location: start.toString() };
  }
  const grant = await signGrant({ workspaceId, userId: caller.id, session: caller.session, browser: browserBinding(state) });
  const url = new URL(`/w/${workspaceId}/_gantry/grant`, workspaceOrigin(workspaceId));
  url.searchParams.set("grant", grant);
  url.searchParams.set("next", landing);
  return { kind: "redirect", location: url.toString() };
}
