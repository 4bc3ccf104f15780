import { withAdmin } from "@/lib/http/route";
import { readJson } from "@/lib/http/read-json";
import { getSettings } from "@/lib/settings/settings";
import { settingsPatchSchema, updateSettings } from "@/lib/settings/update-settings";

export const dynamic = "force-dynamic";

export const GET = withAdmin(async () => getSettings());

export const PUT = withAdmin(async (req, { caller }) => updateSettings(await readJson(req, settingsPatchSchema), caller));
