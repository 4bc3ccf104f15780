import { NextResponse } from "next/server";
import { withUser } from "@/lib/http/route";
import { revokeApiToken } from "@/lib/auth/api-tokens";

export const dynamic = "force-dynamic";

export const DELETE = withUser(async (_req, { caller, params }) => {
  await revokeApiToken(caller.id, params.id, caller);
  return new NextResponse(null, { status: 204 });
});
