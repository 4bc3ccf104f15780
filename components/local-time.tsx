"use client";

import { formatDateTime, formatRelative, toDate } from "./format";

/**
 * A time in the reader's own time zone. The server renders it in its zone first; the browser's rendering replaces
 * it on hydration (the text may differ, hence suppressHydrationWarning on this element only).
 */
export function LocalTime({ value, relative = false, empty = "—" }: { value: string | Date | null | undefined; relative?: boolean; empty?: string }) {
  const d = toDate(value);
  if (!d) return <span>{empty}</span>;
  const absolute = formatDateTime(d);
  return (
    <time dateTime={d.toISOString()} title={absolute} suppressHydrationWarning>
      {relative ? `${formatRelative(d)}` : absolute}
    </time>
  );
}
