import { NextResponse, type NextRequest } from "next/server";
import { resolveCaller } from "@/lib/auth/caller";
import { config } from "@/lib/config";
import { openWorkspace } from "@/lib/proxy/open-workspace";

export const dynamic = "force-dynamic";

const NO_STORE = { "Cache-Control": "no-store" };

// The dashboard's half of the handshake (lib/proxy/open-workspace.ts): a signed-in owner gets a grant bound to the
// browser the proxy sent here, and is sent back to the proxy with it.
export async function GET(req: NextRequest, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const next = req.nextUrl.searchParams.get("next");
  const state = req.nextUrl.searchParams.get("state");
  const caller = await resolveCaller(req).catch(() => null);
  if (!caller) {
    const query = new URLSearchParams();
    if (state) query.set("state", state);
    if (next) query.set("next", next);
    const back = `/open/${encodeURIComponent(id)}${query.size ? `?${query}` : ""}`;
    return NextResponse.redirect(new URL(`/login?next=${encodeURIComponent(back)}`, config.publicUrl), { headers: NO_STORE });
  }
  const answer = await openWorkspace(caller, id, next, state);
  if (answer.kind === "not_found") return new NextResponse("Not found", { status: 404, headers: NO_STORE });
  if (answer.kind === "browser_only") {
    return new NextResponse("Workspaces open in a signed-in browser: sign in to the dashboard and use Open there. API tokens cannot open them.", {
      status: 403,
      headers: { ...NO_STORE, "Content-Type": "text/plain; charset=utf-8" },
    });
  }
  return NextResponse.redirect(answer.location, { headers: NO_STORE });
}
