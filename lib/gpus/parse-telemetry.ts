// Reads the rows of nvidia-smi's telemetry query, one row per GPU per sample:
//   nvidia-smi --query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw
//              --format=csv,noheader,nounits -lms <interval>
// A field the GPU cannot report is a placeholder ("[N/A]", "[Not Supported]"…) and reads as null.

export const TELEMETRY_FIELDS = "index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw";

/** The long-lived sampler's arguments: query mode with a loop interval, one process for every sample. */
export function telemetryArgs(intervalMs: number): string[] {
  return [`--query-gpu=${TELEMETRY_FIELDS}`, "--format=csv,noheader,nounits", "-lms", String(Math.max(100, Math.round(intervalMs)))];
}

export type GpuReading = {
  index: number;
  uuid: string;
  utilizationPercent: number | null;
  memoryUsedMb: number | null;
  memoryTotalMb: number | null;
  temperatureC: number | null;
  powerW: number | null;
};

const GPU_UUID = /^GPU-[0-9a-f]+(?:-[0-9a-f]+)*$/i;

function numberOrNull(field: string, max: number): number | null {
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*(?:%|MiB|C|W))?$/i.exec(field.trim());
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isFinite(n) && n >= 0 && n <= max ? n : null;
}

/** One GPU's reading, or null for a line that is not a telemetry row (a header, an error, a MIG device). */
export function parseTelemetryLine(line: string): GpuReading | null {
  const parts = line.split(",").map((p) => p.trim());
  if (parts.length !== 7) return null;
  const [index, uuid, util, used, total, temp, power] = parts;
  if (!/^\d+$/.test(index) || !GPU_UUID.test(uuid)) return null;
  return {
    index: Number(index),
    uuid,
    utilizationPercent: numberOrNull(util, 100),
    memoryUsedMb: numberOrNull(used, 1e9),
    memoryTotalMb: numberOrNull(total, 1e9),
    temperatureC: numberOrNull(temp, 1000),
    powerW: numberOrNull(power, 1e6),
  };
}
