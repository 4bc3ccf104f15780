import { db } from "../db/client";
import { parseWith } from "../http/read-json";
import { recordAudit, type Actor } from "../audit/record-audit";
import { publish } from "../events/bus";
import { requireDataPath } from "./data-path";
import { getSettings, saveSettings, settingsSchema, type Settings } from "./settings";

export const settingsPatchSchema = settingsSchema.partial();

/** Applies a partial update of the admin settings; the whole result is validated before anything is saved. */
export async function updateSettings(patch: Partial<Settings>, actor: Actor): Promise<Settings> {
  // Resolved on the host (outside the transaction: it is file-system work) and stored as resolved.
  if (patch.dataPath) patch = { ...patch, dataPath: await requireDataPath(patch.dataPath) };
  const saved = await db().$transaction(async (tx) => {
    const before = await getSettings(tx);
    const after = parseWith(settingsSchema, { ...before, ...patch });
    await saveSettings(tx, after);
    await recordAudit(tx, { actor, action: "settings.update", targetType: "settings", before, after });
    return after;
  });
  // After the commit: the proxy's access cache drops the admin-access setting.
  publish({ type: "settings-changed" });
  return saved;
}
