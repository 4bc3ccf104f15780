"use client";

import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis, type BarShapeProps } from "recharts";
import { CHART_HEIGHT, formatDay, formatHours } from "./usage-format";

// The recharts part of the usage charts, loaded on its own (components/usage/usage-chart.tsx imports it lazily) so that
// pages without a chart never ship the library.

export type ChartRow = { day: string } & Record<string, number | string>;
export type ChartSeries = { dataKey: string; label: string; color: string };

function BarWithTitle(props: BarShapeProps & { series: ChartSeries; unit: string }) {
  const { x, y, width, height, fill, payload, series, unit } = props;
  const value = Number((payload as ChartRow)[series.dataKey] ?? 0);
  const day = String((payload as ChartRow).day);
  if (!(height > 0) || !(width > 0)) return <g />;
  return (
    <rect x={x} y={y} width={width} height={height} fill={fill} data-day={day} data-series={series.label} data-value={value} aria-label={`${formatDay(day)}, ${series.label}: ${formatHours(value)} ${unit}`}>
      <title>{`${formatDay(day)}, ${series.label}: ${formatHours(value)} ${unit}`}</title>
    </rect>
  );
}

export default function StackedUsageChart({ rows, series, unit, title }: { rows: ChartRow[]; series: ChartSeries[]; unit: string; title: string }) {
  return (
    <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
      <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: -16 }} title={title} role="img" aria-label={title}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
        <XAxis dataKey="day" tickFormatter={formatDay} tick={{ fontSize: 12, fill: "#475569" }} minTickGap={12} />
        <YAxis tick={{ fontSize: 12, fill: "#475569" }} allowDecimals width={56} />
        <Tooltip formatter={(v) => `${formatHours(Number(v))} ${unit}`} labelFormatter={(d) => formatDay(String(d))} />
        {series.map((s) => (
          <Bar key={s.dataKey} dataKey={s.dataKey} name={s.label} stackId="usage" fill={s.color} isAnimationActive={false}
            shape={(p: BarShapeProps) => <BarWithTitle {...p} series={s} unit={unit} />} />
        ))}
      </BarChart>
    </ResponsiveContainer>
  );
}
