// A workspace's status as a coloured badge. role="status" makes it a polite live region, so a screen reader
// announces "running" when the server-sent events change it.

import { statusRule, type WorkspaceStatus } from "@/lib/workspaces/lifecycle";

const STYLES: Record<WorkspaceStatus, string> = {
  running: "bg-emerald-100 text-emerald-800 ring-emerald-600/20",
  starting: "bg-sky-100 text-sky-800 ring-sky-600/20",
  pulling: "bg-sky-100 text-sky-800 ring-sky-600/20",
  resetting: "bg-amber-100 text-amber-800 ring-amber-600/20",
  stopping: "bg-amber-100 text-amber-800 ring-amber-600/20",
  deleting: "bg-amber-100 text-amber-800 ring-amber-600/20",
  stopped: "bg-slate-100 text-slate-700 ring-slate-500/20",
  error: "bg-red-100 text-red-800 ring-red-600/20",
};

export function StatusBadge({ status, live = true }: { status: string; live?: boolean }) {
  const busy = statusRule(status).transitional;
  return (
    <span
      role={live ? "status" : undefined}
      className={`inline-flex items-center gap-1.5 rounded-full px-2.5 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[status as WorkspaceStatus] ?? STYLES.stopped}`}
    >
      <span aria-hidden="true" className={`h-1.5 w-1.5 rounded-full bg-current ${busy ? "animate-pulse" : ""}`} />
      {status}
    </span>
  );
}
