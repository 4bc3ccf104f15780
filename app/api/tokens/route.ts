import { z } from "zod";
import { withUser, created } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { createApiToken, listApiTokens } from "@/lib/auth/api-tokens";

export const dynamic = "force-dynamic";

const createTokenSchema = z.strictObject({ name: z.string().trim().min(1).max(100).default("API token") });

export const GET = withUser(async (_req, { caller }) => listApiTokens(caller.id));

export const POST = withUser(async (req, { caller }) => {
  const { name } = await readJson(req, createTokenSchema);
  return created(await createApiToken(caller.id, name, caller));
});
