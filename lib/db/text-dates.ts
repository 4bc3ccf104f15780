import { Prisma } from "./generated/client";

// Dates read as the text SQLite stores, for lists of many rows: Prisma turns each DateTime into a Date (~0.4 µs here,
// more under Next.js, which wraps the Date constructor) that the API then turns back into the same ISO string. The
// driver adapter stores a date as its ISO string with "+00:00" for "Z" (its default "iso8601" format).

/** A DateTime column selected as its stored text, under its own name. */
export function dateAsText(column: string): Prisma.Sql {
  return Prisma.raw(`CAST("${column}" AS TEXT) AS "${column}"`);
}

/** A stored date (text, or a Date) as an ISO 8601 string, as Date.prototype.toISOString writes it. */
export function isoDate(value: string | Date): string;
export function isoDate(value: string | Date | null): string | null;
export function isoDate(value: string | Date | null): string | null {
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString();
  if (value.length === 29 && value.endsWith("+00:00") && value[10] === "T") return `${value.slice(0, 23)}Z`;
  // Anything else the database may hold: epoch milliseconds (the adapter's other format), another ISO form, or
  // SQLite's own "YYYY-MM-DD HH:MM:SS" (CURRENT_TIMESTAMP), which is UTC, as Prisma reads it too.
  const date = /^\d+$/.test(value) ? new Date(Number(value)) : new Date(/(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value.replace(" ", "T")}Z`);
  // Unreadable: passed on as stored rather than failing the whole list.
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}
