// How numbers, sizes and GPU ids read on the pages; shared by server and client components.

/** Decimal units, the way Docker and registries report image sizes: "120 MB", "1.4 GB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return "0 MB";
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(bytes >= 1e10 ? 0 : 1)} GB`;
  if (bytes >= 1e6) return `${Math.round(bytes / 1e6)} MB`;
  return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
}

/** 1 → "1", 1.5 → "1.5", 2.25 → "2.3". */
export function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, "");
}

/** "GPU-1a2b3c4d-…" → "GPU-1a2b3c4d": enough to tell GPUs apart on one host. */
export function shortUuid(uuid: string): string {
  const m = /^(GPU-)?([0-9a-f]{8})/i.exec(uuid);
  return m ? `${m[1] ?? ""}${m[2]}` : uuid.slice(0, 12);
}

export function formatMib(mb: number): string {
  return mb >= 1024 ? `${formatNumber(Math.round((mb / 1024) * 10) / 10)} GiB` : `${mb} MiB`;
}

export function toDate(value: string | Date | null | undefined): Date | null {
  if (!value) return null;
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

export function formatDateTime(value: string | Date | null | undefined): string {
  const d = toDate(value);
  if (!d) return "—";
  const sameYear = d.getFullYear() === new Date().getFullYear();
  return d.toLocaleString(undefined, { year: sameYear ? undefined : "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
}

export function formatRelative(value: string | Date | null | undefined, now = Date.now()): string {
  const d = toDate(value);
  if (!d) return "never";
  const seconds = Math.round((now - d.getTime()) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return `${days} day${days === 1 ? "" : "s"} ago`;
}
