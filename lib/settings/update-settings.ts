import crypto from "node:crypto";
import { z } from "zod";
import { db } from "../db/client";
import { parseWith } from "../http/read-json";
import { recordAudit, type Actor } from "../audit/record-audit";
import { publish } from "../events/bus";
import { ApiError } from "../errors";
import { ADMIN_ACCESS_NEEDS_ORIGINS, perWorkspaceOrigins } from "../proxy/workspace-origin";
import { requireDataPath } from "./data-path";
import { getSettings, idleCullingFields, saveSettings, settingsSchema, type Settings } from "./settings";

/** Any subset of the settings; the idle-culling group may also be given in part (the rest is kept). */
export const settingsPatchSchema = settingsSchema.extend({ idleCulling: idleCullingFields.partial() }).partial();
export type SettingsPatch = z.infer<typeof settingsPatchSchema>;

/** Applies a partial update of the admin settings; the whole result is validated before anything is saved. */
export async function updateSettings(patch: SettingsPatch, actor: Actor): Promise<Settings> {
  // On one origin shared by all workspaces, an admin who opens a user's workspace runs that user's pages next to
  // every other workspace the admin opens: the setting is refused until each workspace has an origin of its own.
  if (patch.allowAdminWorkspaceAccess === true && !perWorkspaceOrigins()) {
    throw new ApiError("validation_failed", ADMIN_ACCESS_NEEDS_ORIGINS, { fields: ["allowAdminWorkspaceAccess"] });
  }
  // Resolved on the host (outside the transaction: it is file-system work) and stored as resolved.
  if (patch.dataPath) patch = { ...patch, dataPath: await requireDataPath(patch.dataPath) };
  const saved = await db().$transaction(async (tx) => {
    const before = await getSettings(tx);
    const after = parseWith(settingsSchema, { ...before, ...patch, idleCulling: { ...before.idleCulling, ...patch.idleCulling } });
    await saveSettings(tx, after);
    // A webhook URL is a credential (Slack's carry their secret in the path): the audit says only whether one is set.
    await recordAudit(tx, { actor, action: "settings.update", targetType: "settings", before: redacted(before), after: redacted(after) });
    return after;
  });
  // After the commit: the proxy's access cache drops the admin-access setting.
  publish({ type: "settings-changed" });
  return saved;
}

/** The webhook's host and a hash prefix: enough to see that it changed and where it points, not its secret path. */
function redacted(s: Settings): unknown {
  const url = s.idleCulling.webhookUrl;
  const shown = url ? `${new URL(url).host} (sha256 ${crypto.createHash("sha256").update(url).digest("hex").slice(0, 8)})` : null;
  return { ...s, idleCulling: { ...s.idleCulling, webhookUrl: shown } };
}
