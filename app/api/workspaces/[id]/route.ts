import { NextResponse } from "next/server";
import { withUser } from "@/lib/http/route";
import { getWorkspace } from "@/lib/workspaces/list-workspaces";
import { deleteWorkspace } from "@/lib/workspaces/delete-workspace";

export const dynamic = "force-dynamic";

export const GET = withUser(async (_req, { caller, params }) => getWorkspace(caller, params.id));

export const DELETE = withUser(async (_req, { caller, params }) => {
  await deleteWorkspace(caller, params.id);
  return new NextResponse(null, { status: 204 });
});
