import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { UsageChart } from "@/components/usage/usage-chart";
import { UsageRangePicker } from "@/components/usage/usage-range-picker";
import { DaysTable, HistoryTable, UsageSection, UsageTotals, UsersTable } from "@/components/usage/usage-tables";
import { adminUsageReport } from "@/lib/usage/get-usage";
import { apiQuery, pageRange } from "@/lib/usage/usage-range";
import { requireAdminPage } from "../require-admin-page";

export const metadata: Metadata = { title: "Usage" };
export const dynamic = "force-dynamic";

// Everyone's use: the same numbers as GET /api/admin/usage/report for the range in the URL.
export default async function AdminUsagePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requireAdminPage("/admin/usage");
  const range = pageRange(await searchParams, new Date());
  const report = await adminUsageReport(range.from, range.to);
  return (
    <AppShell user={user}>
      <PageHeader title="Usage" description="Who held which resources, per day and per user. Hours count while a workspace runs, for what it was given." />
      <UsageSection title="Top users this week">
        <p className="-mt-2 mb-3 text-sm text-slate-600">GPU-hours in the last 7 days, whatever range is picked below.</p>
        <UsersTable caption="Top users of the last 7 days, most GPU-hours first" rows={report.topUsers.rows} ranked />
      </UsageSection>
      <UsageRangePicker path="/admin/usage" range={range} csvHref={`/api/admin/usage.csv?${apiQuery(range)}`} />
      <UsageTotals totals={report.totals} />
      <UsageSection title="Per day">
        <div className="mb-4 rounded-xl border border-slate-200 bg-white p-3 shadow-sm sm:p-4">
          <UsageChart stacked={{ days: report.days, series: report.series }} groupNoun="user" />
        </div>
        <details>
          <summary className="cursor-pointer text-sm font-medium text-brand-700 hover:underline">The numbers per day, as a table</summary>
          <div className="mt-3"><DaysTable days={report.days} /></div>
        </details>
      </UsageSection>
      <UsageSection title="Per user">
        <UsersTable caption="Use per user in the range, most GPU-hours first" rows={report.users} />
      </UsageSection>
      <UsageSection title="Workspace history">
        <HistoryTable rows={report.history} showOwner />
      </UsageSection>
    </AppShell>
  );
}
