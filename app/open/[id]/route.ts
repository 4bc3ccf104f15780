import { NextResponse, type NextRequest } from "next/server";
import { resolveCaller } from "@/lib/auth/caller";
import { config } from "@/lib/config";
import { openWorkspaceGrant } from "@/lib/proxy/open-workspace";

export const dynamic = "force-dynamic";

// The dashboard's half of the handshake: a signed-in owner gets a one-time grant and is sent to the proxy.
export async function GET(req: NextRequest, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const next = req.nextUrl.searchParams.get("next");
  const caller = await resolveCaller(req).catch(() => null);
  if (!caller) {
    const back = `/open/${encodeURIComponent(id)}${next ? `?next=${encodeURIComponent(next)}` : ""}`;
    return NextResponse.redirect(new URL(`/login?next=${encodeURIComponent(back)}`, config.publicUrl));
  }
  const location = await openWorkspaceGrant(caller, id, next);
  if (!location) return new NextResponse("Not found", { status: 404 });
  return NextResponse.redirect(location, { headers: { "Cache-Control": "no-store" } });
}
