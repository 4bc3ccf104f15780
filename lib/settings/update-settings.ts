import { db } from "../db/client";
import { parseWith } from "../http/read-json";
import { recordAudit, type Actor } from "../audit/record-audit";
import { getSettings, saveSettings, settingsSchema, type Settings } from "./settings";

export const settingsPatchSchema = settingsSchema.partial();

/** Applies a partial update of the admin settings; the whole result is validated before anything is saved. */
export async function updateSettings(patch: Partial<Settings>, actor: Actor): Promise<Settings> {
  return db().$transaction(async (tx) => {
    const before = await getSettings(tx);
    const after = parseWith(settingsSchema, { ...before, ...patch });
    await saveSettings(tx, after);
    await recordAudit(tx, { actor, action: "settings.update", targetType: "settings", before, after });
    return after;
  });
}
