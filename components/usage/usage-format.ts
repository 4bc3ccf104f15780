// How the usage pages write hours and days; shared by the server tables and the client chart, so both read the same.

export const METRICS = [
  { key: "gpuHours", label: "GPU-hours", short: "GPU-h" },
  { key: "cpuHours", label: "CPU-hours", short: "CPU-h" },
  { key: "memoryGbHours", label: "GB-hours", short: "GB-h" },
] as const;

export type MetricKey = (typeof METRICS)[number]["key"];

/** Two decimals: an hour of a 0.5-CPU workspace (0.50) and a week of 8 GPUs (1344.00) both read exactly. */
export function formatHours(n: number): string {
  return n.toFixed(2);
}

/** "2026-12-01" → "Dec 1" (a UTC day, named the same for every reader). */
export function formatDay(key: string): string {
  return new Date(`${key}T00:00:00Z`).toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

/** The chart's height, shared with its loading placeholder so the page does not jump when recharts arrives. */
export const CHART_HEIGHT = 280;
