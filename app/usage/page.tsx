import type { Metadata } from "next";
import { AppShell, PageHeader } from "@/components/app-shell";
import { UsageChart } from "@/components/usage/usage-chart";
import { UsageRangePicker } from "@/components/usage/usage-range-picker";
import { DaysTable, HistoryTable, UsageSection, UsageTotals } from "@/components/usage/usage-tables";
import { requirePageUser } from "@/lib/auth/page-guard";
import { myUsageReport } from "@/lib/usage/get-usage";
import { apiQuery, pageRange } from "@/lib/usage/usage-range";

export const metadata: Metadata = { title: "Usage" };
export const dynamic = "force-dynamic";

// A user's own use: the same numbers as GET /api/me/usage/report for the range in the URL.
export default async function UsagePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const user = await requirePageUser("/usage");
  const range = pageRange(await searchParams, new Date());
  const report = await myUsageReport(user, range.from, range.to);
  return (
    <AppShell user={user}>
      <PageHeader title="Usage" description="GPU-, CPU- and GB-hours your workspaces held: a workspace counts while it runs, for what it was given, used or not." />
      <UsageRangePicker path="/usage" range={range} csvHref={`/api/me/usage.csv?${apiQuery(range)}`} />
      <UsageTotals totals={report.totals} />
      <UsageSection title="Per day">
        <div className="mb-4 rounded-xl border border-slate-200 bg-white p-3 shadow-sm sm:p-4">
          <UsageChart stacked={{ days: report.days, series: report.series }} groupNoun="workspace" />
        </div>
        <details>
          <summary className="cursor-pointer text-sm font-medium text-brand-700 hover:underline">The numbers per day, as a table</summary>
          <div className="mt-3"><DaysTable days={report.days} /></div>
        </details>
      </UsageSection>
      <UsageSection title="Workspace history">
        <HistoryTable rows={report.history} showOwner={false} />
      </UsageSection>
    </AppShell>
  );
}
