"use client";

import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { GpuPoint } from "@/lib/gpus/telemetry-history";

// The recharts part of the admin GPU page (components/admin/gpu-telemetry.tsx loads it lazily): one GPU's last hour,
// average utilisation per minute. Each point also carries its value in a data attribute and a title.

export const GPU_CHART_HEIGHT = 120;

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

function Dot(props: { cx?: number; cy?: number; payload?: GpuPoint }) {
  const { cx, cy, payload } = props;
  if (cx === undefined || cy === undefined || !payload) return <g />;
  const text = `${time(payload.at)}: ${payload.utilizationAvg ?? "—"}% average, ${payload.utilizationMax ?? "—"}% peak`;
  return (
    <circle cx={cx} cy={cy} r={2} fill="#2458d6" data-at={payload.at} data-utilization={payload.utilizationAvg ?? ""}>
      <title>{text}</title>
    </circle>
  );
}

export default function GpuHistoryChart({ points, label }: { points: GpuPoint[]; label: string }) {
  return (
    <ResponsiveContainer width="100%" height={GPU_CHART_HEIGHT}>
      <AreaChart data={points} margin={{ top: 4, right: 4, bottom: 0, left: -24 }} role="img" aria-label={label}>
        <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="#e2e8f0" />
        <XAxis dataKey="at" tickFormatter={time} tick={{ fontSize: 11, fill: "#475569" }} minTickGap={24} />
        <YAxis domain={[0, 100]} ticks={[0, 50, 100]} tick={{ fontSize: 11, fill: "#475569" }} unit="%" width={48} />
        <Tooltip formatter={(v) => `${v}%`} labelFormatter={(l) => time(String(l))} />
        <Area dataKey="utilizationAvg" name="Utilisation" stroke="#2458d6" fill="#2458d6" fillOpacity={0.15} isAnimationActive={false} dot={<Dot />} connectNulls={false} />
      </AreaChart>
    </ResponsiveContainer>
  );
}
