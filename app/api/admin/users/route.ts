import { withAdmin, created } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { createUser } from "@/lib/users/create-user";
import { createUserSchema } from "@/lib/users/user-schemas";
import { listUsersWithQuota } from "@/lib/users/admin-users";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async () => listUsersWithQuota());

export const POST = withAdmin(async (req, { caller }) => created(await createUser(await readJson(req, createUserSchema), caller)));
