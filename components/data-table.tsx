import type { ReactNode } from "react";
import { tableClass, thClass } from "./form-styles";

/** A column heading: its text, or the text with options (`hidden`: read by screen readers only, e.g. "Actions"). */
export type Column = string | { label: string; hidden?: boolean; className?: string };

/**
 * The one table of the dashboard: a scrollable card, a caption for screen readers, column headings with `scope`,
 * and the rows the caller renders (`<tr>` elements; a row's first cell is usually `<th scope="row">`).
 */
export function DataTable({ caption, columns, children, bare = false }: { caption: ReactNode; columns: Column[]; children: ReactNode; bare?: boolean }) {
  const table = (
    <table className={tableClass}>
      <caption className="sr-only">{caption}</caption>
      <thead className="bg-slate-50">
        <tr>
          {columns.map((column) => {
            const c = typeof column === "string" ? { label: column } : column;
            return (
              <th key={c.label} scope="col" className={c.className ? `${thClass} ${c.className}` : thClass}>
                {c.hidden ? <span className="sr-only">{c.label}</span> : c.label}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">{children}</tbody>
    </table>
  );
  if (bare) return table;
  return <div className="relative overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">{table}</div>;
}

/** What a page shows instead of an empty table: a headline and a line on what would fill it. */
export function EmptyState({ title, children }: { title: ReactNode; children?: ReactNode }) {
  return (
    <div className="rounded-xl border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
      <p className="text-lg font-medium">{title}</p>
      {children}
    </div>
  );
}
