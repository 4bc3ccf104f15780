"use client";

import { useEffect, useState } from "react";
import { apiRequest } from "../api-request";
import type { WorkspaceItem } from "./workspace-item";

function countdown(ms: number): string {
  if (ms <= 0) return "any moment now";
  const s = Math.ceil(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m}:${String(sec).padStart(2, "0")} min` : `${sec} s`;
}

/**
 * The warning before an idle (or over-budget) stop: a live countdown and, for idleness, "Keep running". The server
 * decides whether a snooze is still allowed and says why not.
 */
export function IdleBanner({ workspace, onChanged }: { workspace: WorkspaceItem; onChanged: (w: WorkspaceItem) => void }) {
  const idle = workspace.idle!;
  const stopAt = Date.parse(idle.stopAt);
  const [now, setNow] = useState(() => Date.now());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  async function keep() {
    setBusy(true);
    setError(null);
    const r = await apiRequest<WorkspaceItem>(`/api/workspaces/${workspace.id}/keep-running`, { method: "POST" });
    setBusy(false);
    if (r.ok) onChanged(r.data);
    else setError(r.error.message);
  }

  const budget = idle.reason === "budget";
  return (
    <div className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="idle-banner">
      {/* Announced once, with the time; the ticking countdown is for the eye only. */}
      <p role="alert" className="sr-only">
        {budget ? "Your GPU-hour budget is used up" : "This workspace looks idle"}: it will be stopped at {new Date(stopAt).toLocaleTimeString()}
        {budget ? "." : " unless you use it or press Keep running."}
      </p>
      <p aria-hidden="true">
        {budget ? "Your GPU-hour budget is used up: this workspace" : "This workspace looks idle: it"} will be <strong>stopped</strong> in{" "}
        <span className="tabular-nums" data-testid="idle-countdown">{countdown(stopAt - now)}</span>
        {budget ? "." : " unless you use it. Your files in /workspace are kept."}
      </p>
      {!budget && (
        <div className="mt-2 flex flex-wrap items-center gap-3">
          <button
            type="button"
            onClick={keep}
            disabled={busy}
            className="inline-flex items-center rounded-md bg-amber-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-amber-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-amber-700 disabled:opacity-50"
          >
            {busy ? "Keeping…" : "Keep running"}
          </button>
          {idle.snoozes > 0 && <span className="text-xs">Kept running {idle.snoozes} time{idle.snoozes === 1 ? "" : "s"} since it was last used.</span>}
        </div>
      )}
      {error && <p className="mt-2 text-red-800">{error}</p>}
    </div>
  );
}
