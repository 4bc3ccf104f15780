import { z } from "zod";
import { db, type Tx } from "../db/client";

// Quota numbers: non-negative, bounded; memory and CPUs may be given in halves.
const halves = (max: number) =>
  z.number().min(0).max(max).refine((n) => Number.isInteger(n * 2), "must be a whole number or end in .5");

export const quotaSchema = z.strictObject({
  maxGpus: z.number().int().min(0).max(64),
  maxMemoryGb: halves(4096),
  maxCpus: halves(1024),
  maxWorkspaces: z.number().int().min(0).max(100),
  /** GPU-hours per budget period; null (or left out) for no budget. Launches and starts with GPUs stop when it is used up. */
  gpuHoursBudget: z.number().min(0).max(1_000_000).nullable().default(null),
  budgetPeriod: z.enum(["week", "month"]).default("week"),
});
export type QuotaValues = z.infer<typeof quotaSchema>;

/** Idle culling (lib/workspaces/idle-culler.ts). Minutes are whole; 30 days at most. */
export const idleCullingFields = z.strictObject({
  /** Minutes without use before a running workspace is stopped (not deleted); 0 turns culling off, the default. */
  timeoutMinutes: z.number().int().min(0).max(43_200),
  /** How long before the stop its owner is warned (a banner with "Keep running", and the webhook). */
  warningMinutes: z.number().int().min(1).max(1440),
  /** A GPU at or above this utilisation (whole percent, as nvidia-smi reports it) is in use, whatever else is quiet. */
  gpuThresholdPercent: z.number().int().min(0).max(100),
  /** How many times an owner may press "Keep running" without using the workspace in between. */
  maxSnoozes: z.number().int().min(0).max(100),
  /** Warnings and stops are posted here as Slack-compatible JSON ({ "text": … }); null for none. */
  webhookUrl: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).max(2048).nullable(),
});
export const idleCullingSchema = idleCullingFields.refine((s) => s.timeoutMinutes === 0 || s.warningMinutes < s.timeoutMinutes, {
  path: ["warningMinutes"],
  message: "must be shorter than the idle timeout",
});
export type IdleCullingSettings = z.infer<typeof idleCullingSchema>;

export const settingsSchema = z.strictObject({
  defaultQuota: quotaSchema,
  /** /dev/shm size for workspaces in GB; null means min(8 GB, half the memory limit). */
  shmSizeGb: halves(1024).nullable(),
  /** Memory and CPUs kept back for the host system; never handed to workspaces. */
  hostReserve: z.strictObject({ memoryGb: halves(4096), cpus: halves(1024) }),
  /**
   * Host directory mounted read-only at /data in every workspace; null for none. Only its form is checked here: what
   * it is on the host is decided after resolving it (lib/settings/data-path.ts), never by its spelling.
   */
  dataPath: z
    .string()
    .max(4096)
    .regex(/^\/[^\0]*$/, "must be an absolute host path")
    .nullable(),
  /** Whether admins may open other users' workspaces through the proxy (audited). */
  allowAdminWorkspaceAccess: z.boolean(),
  idleCulling: idleCullingSchema,
});
export type Settings = z.infer<typeof settingsSchema>;

export const DEFAULT_SETTINGS: Settings = {
  defaultQuota: { maxGpus: 1, maxMemoryGb: 16, maxCpus: 4, maxWorkspaces: 3, gpuHoursBudget: null, budgetPeriod: "week" },
  shmSizeGb: null,
  hostReserve: { memoryGb: 2, cpus: 1 },
  dataPath: null,
  allowAdminWorkspaceAccess: false,
  idleCulling: { timeoutMinutes: 0, warningMinutes: 15, gpuThresholdPercent: 10, maxSnoozes: 3, webhookUrl: null },
};

const KEY = "settings";

export async function getSettings(client: Tx | ReturnType<typeof db> = db()): Promise<Settings> {
  // Raw: read by every launch, start and reset (twice), ~0.2 ms against Prisma's ~1 ms under Next.js.
  const [row] = await client.$queryRaw<{ value: string }[]>`SELECT "value" FROM "Setting" WHERE "key" = ${KEY}`;
  if (!row) return DEFAULT_SETTINGS;
  const stored = JSON.parse(row.value);
  const parsed = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...stored, idleCulling: { ...DEFAULT_SETTINGS.idleCulling, ...stored.idleCulling } });
  return parsed.success ? parsed.data : DEFAULT_SETTINGS;
}

export async function saveSettings(client: Tx, settings: Settings): Promise<void> {
  const value = JSON.stringify(settings);
  await client.setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
}
