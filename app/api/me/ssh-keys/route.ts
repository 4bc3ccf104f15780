import { z } from "zod";
import { withUser, created } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { addSshKey, listSshKeys } from "@/lib/ssh/ssh-keys";

export const dynamic = "force-dynamic";

const addSshKeySchema = z.strictObject({
  name: z.string().trim().max(100).optional(),
  publicKey: z.string().max(16 * 1024),
});

export const GET = withUser(async (_req, { caller }) => listSshKeys(caller.id));

export const POST = withUser(async (req, { caller }) => {
  const input = await readJson(req, addSshKeySchema);
  return created(await addSshKey(caller.id, input, caller));
});
