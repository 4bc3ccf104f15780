"use client";

import dynamic from "next/dynamic";
import { useEffect, useState } from "react";
import { apiRequest } from "../api-request";
import { formatMib } from "../format";
import type { GpuTelemetryView } from "@/lib/gpus/telemetry-history";

type GpuRow = { index: number; uuid: string; holder: string | null; workspaceName: string | null };

const POLL_MS = 5000;
const CHART_HEIGHT = 120;

// recharts in its own chunk, after the page; a placeholder of the chart's size until then.
const GpuHistoryChart = dynamic(() => import("./gpu-history-chart"), {
  ssr: false,
  loading: () => <div style={{ height: CHART_HEIGHT }} className="rounded-md bg-slate-50" aria-hidden="true" />,
});

/**
 * Every GPU's live use (utilisation, memory, temperature, power) and its last hour, re-read every few seconds. A host
 * without telemetry says so, with the sampler's reason; nothing here is an error.
 */
export function GpuTelemetry({ gpus }: { gpus: GpuRow[] }) {
  const [view, setView] = useState<GpuTelemetryView | null>(null);
  const [failed, setFailed] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      const r = await apiRequest<GpuTelemetryView>("/api/admin/gpus/telemetry");
      if (stopped) return;
      if (r.ok) {
        setView(r.data);
        setFailed(null);
      } else setFailed(r.error.message);
      timer = setTimeout(load, POLL_MS);
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, []);

  const live = new Map((view?.live ?? []).map((l) => [l.uuid, l]));
  const noTelemetry = view && (view.status.state === "unavailable" || view.status.state === "off");
  return (
    <section aria-labelledby="gpu-telemetry-heading" className="mt-8">
      <h2 id="gpu-telemetry-heading" className="mb-1 text-lg font-semibold">Live use</h2>
      <p className="mb-3 text-sm text-slate-600" data-testid="telemetry-status">
        {!view
          ? failed ?? "Reading telemetry…"
          : noTelemetry
            ? `No telemetry: ${view.status.reason ?? "nvidia-smi does not report on this host."}`
            : view.status.state === "live"
              ? `From nvidia-smi every ${view.status.intervalMs / 1000} s; the charts show the last hour, one point a minute.`
              : `The telemetry sampler is ${view.status.state}${view.status.reason ? `: ${view.status.reason}` : ""}.`}
      </p>
      <ul className="grid gap-4 sm:grid-cols-2">
        {gpus.map((g) => {
          const l = live.get(g.uuid);
          const history = view?.history[g.uuid] ?? [];
          return (
            <li key={g.uuid} className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid={`gpu-telemetry-${g.uuid}`}>
              <div className="flex flex-wrap items-baseline justify-between gap-2">
                <h3 className="font-medium">GPU #{g.index}</h3>
                <span className="text-sm text-slate-600">{g.holder ? `${g.holder} · ${g.workspaceName}` : "Free"}</span>
              </div>
              <dl className="mt-2 grid grid-cols-4 gap-2 text-sm">
                <Figure label="Utilisation" value={l?.utilizationPercent == null ? "—" : `${Math.round(l.utilizationPercent)}%`} id="utilization" />
                <Figure label="Memory" value={l?.memoryUsedMb == null ? "—" : l.memoryTotalMb ? `${formatMib(l.memoryUsedMb)} / ${formatMib(l.memoryTotalMb)}` : formatMib(l.memoryUsedMb)} id="memory" />
                <Figure label="Temp." value={l?.temperatureC == null ? "—" : `${Math.round(l.temperatureC)} °C`} id="temperature" />
                <Figure label="Power" value={l?.powerW == null ? "—" : `${Math.round(l.powerW)} W`} id="power" />
              </dl>
              <div className="mt-3" data-testid="gpu-history-chart">
                {history.length > 0 && <GpuHistoryChart points={history} label={`GPU #${g.index} utilisation, last hour, per minute`} />}
              </div>
              <p className="mt-1 text-xs text-slate-500" data-testid="gpu-history-points">
                {history.length ? `${history.length} minute${history.length === 1 ? "" : "s"} of history` : "No history yet"}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Figure({ label, value, id }: { label: string; value: string; id: string }) {
  return (
    <div>
      <dt className="text-xs text-slate-500">{label}</dt>
      <dd className="font-medium tabular-nums" data-testid={`gpu-${id}`}>{value}</dd>
    </div>
  );
}
