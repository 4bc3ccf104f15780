import { NextResponse } from "next/server";
import { withAdmin } from "@/lib/http/route";
import { deleteUser } from "@/lib/users/delete-user";
import { readJson } from "@/lib/http/read-json";
import { updateUser } from "@/lib/users/update-user";
import { updateUserSchema } from "@/lib/users/admin-users";

export const dynamic = "force-dynamic";

export const PATCH = withAdmin(async (req, { caller, params }) => updateUser(params.id, await readJson(req, updateUserSchema), caller));

// ?purge=1 also removes the user's /workspace volume: their files are gone for good.
export const DELETE = withAdmin(async (req, { caller, params }) => {
  await deleteUser(params.id, { purgeData: req.nextUrl.searchParams.get("purge") === "1" }, caller);
  return new NextResponse(null, { status: 204 });
});
