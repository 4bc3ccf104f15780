import { withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { updateUser } from "@/lib/users/update-user";
import { updateUserSchema } from "@/lib/users/admin-users";

export const dynamic = "force-dynamic";

export const PATCH = withAdmin(async (req, { caller, params }) => updateUser(params.id, await readJson(req, updateUserSchema), caller));
