"use client";

import dynamic from "next/dynamic";
import { useState } from "react";
import { foldSeries, type Stacked } from "@/lib/usage/usage-math";
import { CHART_HEIGHT, METRICS, type MetricKey } from "./usage-format";
// Types only: a value imported from the chart module would put recharts back into the page's bundle.
import type { ChartRow, ChartSeries } from "./stacked-usage-chart";

// The chart with its measure buttons (one pressed at a time) and legend. recharts comes in its own chunk, after the page; until then a
// placeholder of the chart's size keeps the page from jumping.
const StackedUsageChart = dynamic(() => import("./stacked-usage-chart"), {
  ssr: false,
  loading: () => (
    <div role="status" style={{ height: CHART_HEIGHT }} className="flex items-center justify-center rounded-md bg-slate-50 text-sm text-slate-500">
      Loading chart…
    </div>
  ),
});

// Distinguishable colours (Okabe-Ito order, then slate for "others"), readable on white.
const COLORS = ["#2458d6", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#6b5b95", "#8c6d31"];
const OTHERS_COLOR = "#94a3b8";
const MAX_SERIES = COLORS.length;

export function UsageChart({ stacked, groupNoun }: { stacked: Stacked; groupNoun: string }) {
  const [metric, setMetric] = useState<MetricKey>("gpuHours");
  const folded = foldSeries(stacked, MAX_SERIES);
  const series: ChartSeries[] = folded.series.map((s, n) => ({ dataKey: `s${n}`, label: s.label, color: n < MAX_SERIES ? COLORS[n] : OTHERS_COLOR }));
  const index = new Map(folded.series.map((s, n) => [s.key, `s${n}`]));
  const rows: ChartRow[] = folded.days.map((d) => {
    const row: ChartRow = { day: d.key };
    for (const p of d.parts) row[index.get(p.key)!] = p[metric];
    return row;
  });
  const current = METRICS.find((m) => m.key === metric)!;
  const title = `${current.label} per day, stacked by ${groupNoun}`;
  return (
    <figure className="min-w-0">
      <div role="group" aria-label="Measure" className="mb-3 flex flex-wrap gap-1">
        {METRICS.map((m) => (
          <button key={m.key} type="button" aria-pressed={m.key === metric} onClick={() => setMetric(m.key)}
            className="rounded-md border border-slate-300 px-2.5 py-1 text-sm text-slate-700 hover:bg-slate-50 aria-pressed:border-brand-600 aria-pressed:bg-brand-50 aria-pressed:font-medium aria-pressed:text-brand-700">
            {m.label}
          </button>
        ))}
      </div>
      <figcaption className="mb-2 text-sm font-medium text-slate-700">{title} (UTC days)</figcaption>
      <StackedUsageChart rows={rows} series={series} unit={current.label} title={title} />
      {series.length > 0 ? (
        <ul aria-label="Legend" className="mt-3 flex flex-wrap gap-x-4 gap-y-1 text-xs text-slate-700">
          {series.map((s) => (
            <li key={s.dataKey} className="flex min-w-0 items-center gap-1.5">
              <span aria-hidden="true" className="inline-block h-3 w-3 shrink-0 rounded-sm" style={{ background: s.color }} />
              <span className="truncate" title={s.label}>{s.label}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="mt-3 text-sm text-slate-600">No use recorded in this range.</p>
      )}
    </figure>
  );
}
