import { z } from "zod";

const MAX_RANGE_DAYS = 366;
const DAY = 86_400_000;

// An ISO 8601 date ("2026-12-01", midnight UTC) or date-time with a zone ("2026-12-01T08:00:00Z").
const instant = z.union([z.iso.datetime({ offset: true }), z.iso.date()], { error: "must be an ISO 8601 date or date-time, e.g. 2026-12-01 or 2026-12-01T08:00:00Z" });

/** Both ends optional (the last 7 days up to now); from before to; at most a year. */
function resolveRange(q: { from?: string; to?: string }, ctx: z.RefinementCtx): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 7 * DAY);
  if (!(from < to)) ctx.addIssue({ code: "custom", path: ["from"], message: "must be before to" });
  else if (to.getTime() - from.getTime() > MAX_RANGE_DAYS * DAY) ctx.addIssue({ code: "custom", path: ["to"], message: `the range may span at most ${MAX_RANGE_DAYS} days` });
  return { from, to };
}

export const usageRangeSchema = z.strictObject({ from: instant.optional(), to: instant.optional() }).transform((q, ctx) => resolveRange(q, ctx));

export const adminUsageSchema = z
  .strictObject({ from: instant.optional(), to: instant.optional(), groupBy: z.enum(["user", "day"]).default("user") })
  .transform((q, ctx) => ({ ...resolveRange(q, ctx), groupBy: q.groupBy }));
