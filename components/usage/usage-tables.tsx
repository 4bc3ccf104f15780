import { DataTable, EmptyState } from "@/components/data-table";
import { LocalTime } from "@/components/local-time";
import { formatNumber } from "@/components/format";
import { cardClass, tdClass } from "@/components/form-styles";
import type { HistoryRow } from "@/lib/usage/get-usage";
import type { Row, StackedDay, Totals } from "@/lib/usage/usage-math";
import { formatDay, formatHours, METRICS } from "./usage-format";

const num = `${tdClass} whitespace-nowrap text-right tabular-nums`;
const numHead = { className: "!text-right" };
const metricColumns = METRICS.map((m) => ({ label: m.label, ...numHead }));

/** The range's three totals, as a description list (the numbers a screen reader hears first). */
export function UsageTotals({ totals }: { totals: Totals }) {
  return (
    <dl aria-label="Totals" className="mb-6 grid grid-cols-1 gap-3 sm:grid-cols-3">
      {METRICS.map((m) => (
        <div key={m.key} className={cardClass}>
          <dt className="text-sm text-slate-600">{m.label}</dt>
          <dd className="mt-1 text-2xl font-semibold tabular-nums">{formatHours(totals[m.key])}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The chart's numbers as a table: one row per UTC day. */
export function DaysTable({ days }: { days: StackedDay[] }) {
  return (
    <DataTable caption="Use per UTC day" columns={[{ label: "Day" }, ...metricColumns]}>
      {days.map((d) => (
        <tr key={d.key}>
          <th scope="row" className={`${tdClass} whitespace-nowrap text-left font-medium`}><time dateTime={d.key}>{formatDay(d.key)}</time><span className="sr-only"> {d.key}</span></th>
          {METRICS.map((m) => <td key={m.key} className={num}>{formatHours(d[m.key])}</td>)}
        </tr>
      ))}
    </DataTable>
  );
}

/** One row per user: the range's users, or the top users of the week. */
export function UsersTable({ caption, rows, ranked = false }: { caption: string; rows: Row[]; ranked?: boolean }) {
  if (rows.length === 0) return <EmptyState title="Nobody used anything">{<p className="mt-1 text-sm text-slate-600">No workspace held resources in this time.</p>}</EmptyState>;
  return (
    <DataTable caption={caption} columns={[...(ranked ? [{ label: "#" }] : []), { label: "User" }, ...metricColumns]}>
      {rows.map((r, n) => (
        <tr key={r.key}>
          {ranked && <td className={`${tdClass} tabular-nums text-slate-500`}>{n + 1}</td>}
          <th scope="row" className={`${tdClass} min-w-44 text-left font-medium [overflow-wrap:anywhere]`}>{r.label}</th>
          {METRICS.map((m) => <td key={m.key} className={num}>{formatHours(r[m.key])}</td>)}
        </tr>
      ))}
    </DataTable>
  );
}

const HISTORY_LIMIT = 500;

/** Each workspace's intervals in the range: what it held, when, why it ended, and its GPU-hours inside the range. */
export function HistoryTable({ rows, showOwner }: { rows: HistoryRow[]; showOwner: boolean }) {
  if (rows.length === 0) {
    return <EmptyState title="No workspace history in this range"><p className="mt-1 text-sm text-slate-600">An interval starts when a workspace starts and ends when it stops.</p></EmptyState>;
  }
  const shown = rows.slice(0, HISTORY_LIMIT);
  return (
    <>
      <DataTable caption="Each workspace's intervals in the range"
        columns={["Workspace", ...(showOwner ? ["Owner"] : []), "Start", "End", { label: "GPUs", ...numHead }, { label: "Memory", ...numHead }, { label: "CPUs", ...numHead }, "End reason", { label: "GPU-hours", ...numHead }]}>
        {shown.map((r) => (
          <tr key={r.id}>
            <th scope="row" className={`${tdClass} min-w-32 text-left font-medium [overflow-wrap:anywhere]`}>{r.workspaceName}</th>
            {showOwner && <td className={`${tdClass} min-w-44 [overflow-wrap:anywhere]`}>{r.userEmail}</td>}
            <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={r.start} /></td>
            <td className={`${tdClass} whitespace-nowrap`}>{r.end ? <LocalTime value={r.end} /> : <span className="text-emerald-700">running</span>}</td>
            <td className={num}>{r.gpus}</td>
            <td className={num}>{formatNumber(r.memoryGb)} GB</td>
            <td className={num}>{formatNumber(r.cpus)}</td>
            <td className={tdClass}>{r.endReason ?? "—"}</td>
            <td className={num}>{formatHours(r.gpuHours)}</td>
          </tr>
        ))}
      </DataTable>
      {rows.length > shown.length && <p className="mt-2 text-sm text-slate-600">Showing the first {HISTORY_LIMIT} of {rows.length} intervals; the CSV has them all.</p>}
    </>
  );
}

export function UsageSection({ title, children }: { title: string; children: React.ReactNode }) {
  const id = `usage-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <section aria-labelledby={id} className="mb-8 min-w-0">
      <h2 id={id} className="mb-3 text-lg font-semibold">{title}</h2>
      {children}
    </section>
  );
}
