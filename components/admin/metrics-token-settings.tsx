"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { LocalTime } from "../local-time";
import { alertClass, cardClass, dangerButton, primaryButton, secondaryButton, successClass } from "../form-styles";

type Status = { enabled: boolean; prefix: string | null; createdAt: string | null };

/** Prometheus metrics: make (or replace) the scrape token, shown once, or turn metrics off. */
export function MetricsTokenSettings({ status, metricsUrl }: { status: Status; metricsUrl: string }) {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [token, setToken] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<"rotate" | "remove" | null>(null);

  async function act(kind: "rotate" | "remove") {
    setBusy(true);
    setError(null);
    const res = await apiRequest<{ token?: string }>("/api/admin/settings/metrics-token", { method: kind === "rotate" ? "POST" : "DELETE" });
    setBusy(false);
    setConfirm(null);
    if (!res.ok) return setError(res.error.message);
    setToken(kind === "rotate" ? (res.data.token ?? null) : null);
    router.refresh();
  }

  return (
    <section aria-labelledby="metrics-heading" className={cardClass}>
      <h2 id="metrics-heading" className="text-lg font-semibold">Prometheus metrics</h2>
      <p className="mt-1 text-sm text-slate-600">
        Prometheus scrapes <code className="text-xs">{metricsUrl}</code> with a metrics token sent as{" "}
        <code className="text-xs">Authorization: Bearer &lt;token&gt;</code>. Without a token, metrics are off.
      </p>
      <p className="mt-3 text-sm">
        {status.enabled ? (
          <>Metrics are on, with the token <code className="font-mono text-xs">{status.prefix}…</code> made <LocalTime value={status.createdAt} />.</>
        ) : (
          <>Metrics are off.</>
        )}
      </p>
      {token && (
        <div className={`mt-3 ${successClass}`}>
          <p className="font-medium">Copy the metrics token now: it is shown only this once.</p>
          <input readOnly value={token} aria-label="New metrics token" onFocus={(e) => e.currentTarget.select()}
            className="mt-2 block w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-xs text-slate-900" />
        </div>
      )}
      {error && <p role="alert" className={`mt-3 ${alertClass}`}>{error}</p>}
      <div className="mt-4 flex flex-wrap gap-3">
        <button type="button" disabled={busy} className={status.enabled ? secondaryButton : primaryButton}
          onClick={() => (status.enabled ? setConfirm("rotate") : act("rotate"))}>
          {status.enabled ? "Replace token" : "Turn on metrics"}
        </button>
        {status.enabled && (
          <button type="button" disabled={busy} className={dangerButton} onClick={() => setConfirm("remove")}>Turn off metrics</button>
        )}
      </div>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm === "remove" ? "Turn off Prometheus metrics?" : "Replace the metrics token?"}
        confirmLabel={confirm === "remove" ? "Turn off metrics" : "Replace token"}
        busyLabel={confirm === "remove" ? "Turning off…" : "Replacing…"}
        busy={busy}
        tone={confirm === "remove" ? "danger" : "primary"}
        onConfirm={() => confirm && act(confirm)}
        onClose={() => setConfirm(null)}
      >
        <p>
          {confirm === "remove"
            ? "The token stops working at once and /metrics answers 404 until a new token is made."
            : "The current token stops working at once; update your Prometheus configuration with the new one."}
        </p>
      </ConfirmDialog>
    </section>
  );
}
