import { usageRangeSchema } from "./usage-schemas";
import { formatZodError } from "../http/read-json";

// The date range of the usage pages, as the URL holds it: whole UTC days, both ends included
// (`?from=2026-12-01&to=2026-12-07` is seven days), turned into the API's half-open [from, to).

const DAY = 86_400_000;
export const PRESET_DAYS = [7, 30, 90] as const;

export type PageRange = {
  /** First and last day shown, YYYY-MM-DD (UTC). */
  fromDay: string;
  toDay: string;
  /** The API's range: fromDay 00:00Z up to the day after toDay, 00:00Z. */
  from: Date;
  to: Date;
  /** Set when the URL's range was refused; the page then shows the default range and says why. */
  error?: string;
};

function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The last `days` UTC days, today included. */
export function presetRange(days: number, now: Date): { fromDay: string; toDay: string } {
  const today = Math.floor(now.getTime() / DAY) * DAY;
  return { fromDay: dayOf(today - (days - 1) * DAY), toDay: dayOf(today) };
}

function resolve(fromDay: string, toDay: string): { from: Date; to: Date } | { error: string } {
  const days = /^\d{4}-\d{2}-\d{2}$/;
  if (!days.test(fromDay) || !days.test(toDay)) return { error: "From and To must be dates, e.g. 2026-12-01." };
  const end = Date.parse(`${toDay}T00:00:00Z`) + DAY;
  // The same rules as the API (valid dates, from before to, at most a year), so the page and the API never disagree.
  const parsed = usageRangeSchema.safeParse({ from: fromDay, to: Number.isNaN(end) ? toDay : dayOf(end) });
  if (!parsed.success) return { error: formatZodError(parsed.error).replace(/^from: /, "From: ").replace(/^to: /, "To: ") };
  return parsed.data;
}

/** The range a page's search params ask for; the last 7 days when they ask for none or for one that is refused. */
export function pageRange(params: Record<string, string | string[] | undefined>, now: Date): PageRange {
  const fallback = presetRange(7, now);
  const asked = params.from !== undefined || params.to !== undefined;
  const fromDay = typeof params.from === "string" && params.from ? params.from : asked ? "" : fallback.fromDay;
  const toDay = typeof params.to === "string" && params.to ? params.to : asked ? "" : fallback.toDay;
  const r = resolve(fromDay, toDay);
  if ("error" in r) {
    const d = resolve(fallback.fromDay, fallback.toDay) as { from: Date; to: Date };
    return { ...fallback, ...d, error: r.error };
  }
  return { fromDay, toDay, ...r };
}

/** The API query for a page range (`from` and the exclusive `to`), for links to the CSV and the JSON. */
export function apiQuery(range: { from: Date; to: Date }): string {
  return `from=${dayOf(range.from.getTime())}&to=${dayOf(range.to.getTime())}`;
}
