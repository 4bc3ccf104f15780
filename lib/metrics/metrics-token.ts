import crypto from "node:crypto";
import { db } from "../db/client";
import { ApiError } from "../errors";
import { recordAudit, type Actor } from "../audit/record-audit";

// The bearer token a Prometheus server scrapes GET /metrics with. One per Gantry, made by an admin (shown once; only
// its SHA-256 is stored, as for API tokens), replaced by making a new one, and removed to turn metrics off. It is kept
// in a settings row of its own, so the admin settings (GET /api/admin/settings) never carry its hash.

export const METRICS_TOKEN_PREFIX = "gnm_";
const KEY = "metrics-token";
/** How much of the token is kept to tell tokens apart (the audit log and the settings page show it). */
const SHOWN_CHARS = METRICS_TOKEN_PREFIX.length + 6;

type Stored = { hash: string; prefix: string; createdAt: string };
export type MetricsTokenStatus = { enabled: boolean; prefix: string | null; createdAt: string | null };

export function hashMetricsToken(token: string): string {
  return crypto.createHash("sha256").update(token, "utf8").digest("hex");
}

/** The token in `Authorization: Bearer <token>`, or null when the header is missing or not of that form. */
export function presentedBearer(header: string | null | undefined): string | null {
  if (!header || header.length > 512) return null;
  const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  return m ? m[1] : null;
}

/** Whether `token` hashes to `storedHash`, compared in constant time (the hashes have one length whatever was sent). */
export function tokenMatchesHash(token: string, storedHash: string): boolean {
  const presented = Buffer.from(hashMetricsToken(token), "hex");
  const stored = Buffer.from(storedHash, "hex");
  return stored.length === presented.length && crypto.timingSafeEqual(presented, stored);
}

function parseStored(value: string | undefined): Stored | null {
  if (!value) return null;
  try {
    const v = JSON.parse(value) as Partial<Stored>;
    return typeof v.hash === "string" && /^[0-9a-f]{64}$/.test(v.hash) && typeof v.prefix === "string" && typeof v.createdAt === "string" ? (v as Stored) : null;
  } catch {
    return null;
  }
}

async function readStored(): Promise<Stored | null> {
  const row = await db().setting.findUnique({ where: { key: KEY } });
  return parseStored(row?.value);
}

function toStatus(s: Stored | null): MetricsTokenStatus {
  return s ? { enabled: true, prefix: s.prefix, createdAt: s.createdAt } : { enabled: false, prefix: null, createdAt: null };
}

export async function metricsTokenStatus(): Promise<MetricsTokenStatus> {
  return toStatus(await readStored());
}

/** Makes a new metrics token (turning metrics on, or replacing the old token at once). The plain token is returned this once. */
export async function rotateMetricsToken(actor: Actor): Promise<MetricsTokenStatus & { token: string }> {
  const token = METRICS_TOKEN_PREFIX + crypto.randomBytes(32).toString("base64url");
  const stored: Stored = { hash: hashMetricsToken(token), prefix: token.slice(0, SHOWN_CHARS), createdAt: new Date().toISOString() };
  await db().$transaction(async (tx) => {
    const before = parseStored((await tx.setting.findUnique({ where: { key: KEY } }))?.value);
    const value = JSON.stringify(stored);
    await tx.setting.upsert({ where: { key: KEY }, create: { key: KEY, value }, update: { value } });
    await recordAudit(tx, {
      actor,
      action: before ? "settings.metrics_token.rotate" : "settings.metrics_token.create",
      targetType: "settings",
      before: before ? { prefix: before.prefix } : undefined,
      after: { prefix: stored.prefix },
    });
  });
  return { ...toStatus(stored), token };
}

/** Removes the metrics token: GET /metrics answers 404 until a new one is made. Removing none changes nothing. */
export async function removeMetricsToken(actor: Actor): Promise<MetricsTokenStatus> {
  await db().$transaction(async (tx) => {
    const before = parseStored((await tx.setting.findUnique({ where: { key: KEY } }))?.value);
    const { count } = await tx.setting.deleteMany({ where: { key: KEY } });
    if (count === 0) return;
    await recordAudit(tx, { actor, action: "settings.metrics_token.remove", targetType: "settings", before: { prefix: before?.prefix ?? null } });
  });
  return toStatus(null);
}

/** Lets a scrape through, or refuses it: 404 while metrics are off, 401 without the right token. */
export async function authorizeScrape(authorization: string | null): Promise<void> {
  const stored = await readStored();
  if (!stored) {
    throw new ApiError("not_found", "Metrics are not enabled. An admin can turn them on under Host settings by making a metrics token.");
  }
  const token = presentedBearer(authorization);
  if (!token || !tokenMatchesHash(token, stored.hash)) {
    throw new ApiError("unauthorized", "Send the metrics token from Host settings as 'Authorization: Bearer <token>'.");
  }
}
