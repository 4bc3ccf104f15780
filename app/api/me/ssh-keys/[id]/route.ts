import { NextResponse } from "next/server";
import { withUser } from "@/lib/http/route";
import { removeSshKey } from "@/lib/ssh/ssh-keys";

export const dynamic = "force-dynamic";

export const DELETE = withUser(async (_req, { caller, params }) => {
  await removeSshKey(caller.id, params.id, caller);
  return new NextResponse(null, { status: 204 });
});
