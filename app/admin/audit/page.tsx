import type { Metadata } from "next";
import Link from "next/link";
import { AppShell, PageHeader } from "@/components/app-shell";
import { LocalTime } from "@/components/local-time";
import { tdClass } from "@/components/form-styles";
import { DataTable, EmptyState } from "@/components/data-table";
import { listAudit } from "@/lib/audit/record-audit";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "Audit log" };
export const dynamic = "force-dynamic";

const PAGE_SIZE = 25;

function pageFrom(value: string | string[] | undefined): number {
  const n = Number(typeof value === "string" ? value : "1");
  return Number.isInteger(n) && n >= 1 && n <= 1_000_000 ? n : 1;
}

function Changes({ before, after }: { before: unknown; after: unknown }) {
  if (before === null && after === null) return <span className="text-slate-400">—</span>;
  return (
    <details className="max-w-md">
      <summary className="cursor-pointer text-brand-700 hover:underline">Show changes</summary>
      <div className="mt-2 grid gap-2">
        {before !== null && (
          <div>
            <p className="text-xs font-semibold text-slate-500">Before</p>
            <pre className="max-h-48 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 text-xs">{JSON.stringify(before, null, 2)}</pre>
          </div>
        )}
        {after !== null && (
          <div>
            <p className="text-xs font-semibold text-slate-500">After</p>
            <pre className="max-h-48 overflow-auto whitespace-pre-wrap break-all rounded bg-slate-50 p-2 text-xs">{JSON.stringify(after, null, 2)}</pre>
          </div>
        )}
      </div>
    </details>
  );
}

const pagerLink = "rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-50";
const pagerOff = "rounded-md border border-slate-200 px-3 py-1.5 text-sm text-slate-400";

export default async function AdminAuditPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireAdminPage("/admin/audit");
  const page = pageFrom((await searchParams).page);
  const { events, total } = await listAudit(page, PAGE_SIZE);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  return (
    <AppShell user={user}>
      <PageHeader title="Audit log" description="Who changed what, newest first. Secrets (passwords, tokens) are never recorded." />
      {events.length === 0 ? (
        <EmptyState title={total === 0 ? "Nothing recorded yet" : "No entries on this page"}>
          <p className="mt-1 text-sm text-slate-600">
            {total === 0 ? "Launches, quota changes, user changes and other admin actions appear here." : <Link href="/admin/audit" className="text-brand-700 underline">Go to the newest entries</Link>}
          </p>
        </EmptyState>
      ) : (
        <DataTable caption={`Audit log, page ${page} of ${pages}, newest first`} columns={["When", "Who", "Action", "Target", "Changes"]}>
          {events.map((e) => (
            <tr key={e.id}>
              <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={e.at} /></td>
              <td className={tdClass}>{e.actorEmail ?? <span className="text-slate-500">system</span>}</td>
              <td className={`${tdClass} whitespace-nowrap font-mono text-xs`}>{e.action}</td>
              <td className={tdClass}>
                {e.targetType}
                {e.targetId && <span className="block font-mono text-xs text-slate-500">{e.targetId}</span>}
              </td>
              <td className={tdClass}><Changes before={e.before} after={e.after} /></td>
            </tr>
          ))}
        </DataTable>
      )}
      <nav aria-label="Audit log pages" className="mt-4 flex items-center justify-between gap-2 text-sm">
        {page > 1 ? (
          <Link href={`/admin/audit?page=${Math.min(page - 1, pages)}`} rel="prev" className={pagerLink}>Previous</Link>
        ) : (
          <span aria-disabled="true" className={pagerOff}>Previous</span>
        )}
        <span className="text-slate-600">Page {page} of {pages} · {total} entr{total === 1 ? "y" : "ies"}</span>
        {page < pages ? (
          <Link href={`/admin/audit?page=${page + 1}`} rel="next" className={pagerLink}>Next</Link>
        ) : (
          <span aria-disabled="true" className={pagerOff}>Next</span>
        )}
      </nav>
    </AppShell>
  );
}
