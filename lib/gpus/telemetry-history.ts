import { db } from "../db/client";
import { latestGpuSamples, openSampleRows, telemetryStatus, type TelemetryStatus } from "./telemetry";
import type { SampleRow } from "./telemetry-buckets";

// What the admin GPU page draws: every GPU's live reading and its last hour, one point per minute (a minute shared
// by two holders is one point, weighted by samples). Reads the database's minutes and the minute still being summed.

export type GpuPoint = { at: string; utilizationAvg: number | null; utilizationMax: number | null; memoryUsedMaxMb: number | null };
export type GpuTelemetryView = {
  status: Pick<TelemetryStatus, "state" | "reason" | "intervalMs" | "restarts">;
  live: { uuid: string; index: number; utilizationPercent: number | null; memoryUsedMb: number | null; memoryTotalMb: number | null; temperatureC: number | null; powerW: number | null; at: string }[];
  history: Record<string, GpuPoint[]>;
};

export function mergeMinutes(rows: Pick<SampleRow, "gpuUuid" | "at" | "samples" | "utilizationAvg" | "utilizationMax" | "memoryUsedMaxMb">[]): Record<string, GpuPoint[]> {
  const acc = new Map<string, Map<number, { n: number; total: number; max: number | null; mem: number | null }>>();
  for (const r of rows) {
    const perGpu = acc.get(r.gpuUuid) ?? new Map();
    acc.set(r.gpuUuid, perGpu);
    const t = r.at.getTime();
    const p = perGpu.get(t) ?? { n: 0, total: 0, max: null, mem: null };
    if (r.utilizationAvg !== null) {
      p.n += r.samples;
      p.total += r.utilizationAvg * r.samples;
    }
    if (r.utilizationMax !== null) p.max = Math.max(p.max ?? 0, r.utilizationMax);
    if (r.memoryUsedMaxMb !== null) p.mem = Math.max(p.mem ?? 0, r.memoryUsedMaxMb);
    perGpu.set(t, p);
  }
  const out: Record<string, GpuPoint[]> = {};
  for (const [uuid, perGpu] of acc) {
    out[uuid] = [...perGpu.entries()]
      .sort(([a], [b]) => a - b)
      .map(([t, p]) => ({ at: new Date(t).toISOString(), utilizationAvg: p.n ? Math.round((p.total / p.n) * 10) / 10 : null, utilizationMax: p.max, memoryUsedMaxMb: p.mem }));
  }
  return out;
}

export async function gpuTelemetryView(minutes = 60): Promise<GpuTelemetryView> {
  const since = new Date(Date.now() - minutes * 60_000);
  const stored = await db().gpuSample.findMany({
    where: { periodS: 60, at: { gte: since } },
    select: { gpuUuid: true, at: true, samples: true, utilizationAvg: true, utilizationMax: true, memoryUsedMaxMb: true },
    orderBy: { at: "asc" },
  });
  const { state, reason, intervalMs, restarts } = telemetryStatus();
  return {
    status: { state, reason, intervalMs, restarts },
    live: latestGpuSamples().map(({ holder: _h, at, ...r }) => ({ ...r, at: at.toISOString() })),
    history: mergeMinutes([...stored, ...openSampleRows().filter((r) => r.at >= since)]),
  };
}
