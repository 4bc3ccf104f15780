import type { GpuReading } from "./parse-telemetry";

// Downsampling of GPU telemetry, pure: readings go into one bucket per GPU, holder and period; a finished period's
// buckets become rows. Minutes are kept for a day, hours for 30 days (lib/gpus/telemetry.ts writes and compacts).

export const MINUTE_S = 60;
export const HOUR_S = 3600;
export const MINUTES_KEPT_MS = 24 * 3600_000;
export const HOURS_KEPT_MS = 30 * 24 * 3600_000;

export type Holder = { workspaceId: string; userId: string };

export type SampleRow = {
  gpuUuid: string;
  at: Date;
  periodS: number;
  workspaceId: string | null;
  userId: string | null;
  samples: number;
  utilizationAvg: number | null;
  utilizationMax: number | null;
  memoryUsedMaxMb: number | null;
  memoryTotalMb: number | null;
  temperatureMaxC: number | null;
  powerAvgW: number | null;
};

type Sum = { n: number; total: number };
type Bucket = {
  gpuUuid: string;
  at: number;
  holder: Holder | null;
  samples: number;
  util: Sum;
  utilMax: number | null;
  memMax: number | null;
  memTotal: number | null;
  tempMax: number | null;
  power: Sum;
};

const max = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const avg = (s: Sum) => (s.n ? Math.round((s.total / s.n) * 100) / 100 : null);

export function periodStart(t: number, periodS: number): number {
  return Math.floor(t / (periodS * 1000)) * periodS * 1000;
}

export class MinuteBuckets {
  private buckets = new Map<string, Bucket>();

  add(reading: GpuReading, holder: Holder | null, at: number): void {
    const start = periodStart(at, MINUTE_S);
    const key = `${reading.uuid}|${holder?.workspaceId ?? ""}|${start}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = { gpuUuid: reading.uuid, at: start, holder, samples: 0, util: { n: 0, total: 0 }, utilMax: null, memMax: null, memTotal: null, tempMax: null, power: { n: 0, total: 0 } };
      this.buckets.set(key, b);
    }
    b.samples++;
    if (reading.utilizationPercent !== null) {
      b.util.n++;
      b.util.total += reading.utilizationPercent;
    }
    b.utilMax = max(b.utilMax, reading.utilizationPercent);
    b.memMax = max(b.memMax, reading.memoryUsedMb);
    b.memTotal = reading.memoryTotalMb ?? b.memTotal;
    b.tempMax = max(b.tempMax, reading.temperatureC);
    if (reading.powerW !== null) {
      b.power.n++;
      b.power.total += reading.powerW;
    }
  }

  /** The rows of every bucket whose minute started before `before` (they are removed); all of them without it. */
  take(before = Infinity): SampleRow[] {
    const rows: SampleRow[] = [];
    for (const [key, b] of this.buckets) {
      if (b.at + MINUTE_S * 1000 > before) continue;
      this.buckets.delete(key);
      rows.push(toRow(b));
    }
    return rows;
  }

  /** The rows of the buckets still open, without removing them (for charts that show the current minute). */
  peek(): SampleRow[] {
    return [...this.buckets.values()].map(toRow);
  }
}

function toRow(b: Bucket): SampleRow {
  return {
    gpuUuid: b.gpuUuid,
    at: new Date(b.at),
    periodS: MINUTE_S,
    workspaceId: b.holder?.workspaceId ?? null,
    userId: b.holder?.userId ?? null,
    samples: b.samples,
    utilizationAvg: avg(b.util),
    utilizationMax: b.utilMax,
    memoryUsedMaxMb: b.memMax === null ? null : Math.round(b.memMax),
    memoryTotalMb: b.memTotal === null ? null : Math.round(b.memTotal),
    temperatureMaxC: b.tempMax,
    powerAvgW: avg(b.power),
  };
}

/** Minute rows folded into hour rows, per GPU, holder and hour; averages weighted by their samples. */
export function foldIntoHours(rows: SampleRow[]): SampleRow[] {
  const out = new Map<string, SampleRow & { utilW: Sum; powerW: Sum }>();
  for (const r of rows) {
    const at = periodStart(r.at.getTime(), HOUR_S);
    const key = `${r.gpuUuid}|${r.workspaceId ?? ""}|${at}`;
    let h = out.get(key);
    if (!h) {
      h = { ...r, at: new Date(at), periodS: HOUR_S, samples: 0, utilizationAvg: null, utilizationMax: null, memoryUsedMaxMb: null, temperatureMaxC: null, powerAvgW: null, utilW: { n: 0, total: 0 }, powerW: { n: 0, total: 0 } };
      out.set(key, h);
    }
    h.samples += r.samples;
    if (r.utilizationAvg !== null) {
      h.utilW.n += r.samples;
      h.utilW.total += r.utilizationAvg * r.samples;
    }
    if (r.powerAvgW !== null) {
      h.powerW.n += r.samples;
      h.powerW.total += r.powerAvgW * r.samples;
    }
    h.utilizationMax = max(h.utilizationMax, r.utilizationMax);
    h.memoryUsedMaxMb = max(h.memoryUsedMaxMb, r.memoryUsedMaxMb);
    h.memoryTotalMb = r.memoryTotalMb ?? h.memoryTotalMb;
    h.temperatureMaxC = max(h.temperatureMaxC, r.temperatureMaxC);
    h.userId = r.userId ?? h.userId;
  }
  return [...out.values()].map(({ utilW, powerW, ...row }) => ({ ...row, utilizationAvg: avg(utilW), powerAvgW: avg(powerW) }));
}
