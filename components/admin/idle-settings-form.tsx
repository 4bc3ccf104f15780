"use client";

import { useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { alertClass, cardClass, inputClass, labelClass, primaryButton } from "../form-styles";
import type { IdleCullingSettings } from "@/lib/settings/settings";

const LABELS = {
  timeoutMinutes: "Idle timeout (minutes)",
  warningMinutes: "Warning (minutes before the stop)",
  gpuThresholdPercent: "GPU utilisation threshold (%)",
  maxSnoozes: "Keep running, at most",
  webhookUrl: "Webhook URL",
};

type Field = keyof typeof LABELS;

/** Idle culling: when an unused workspace is warned and stopped (never deleted), and where that is announced. */
export function IdleSettingsForm({ settings }: { settings: IdleCullingSettings }) {
  const router = useRouter();
  const [values, setValues] = useState<Record<Field, string>>({
    timeoutMinutes: String(settings.timeoutMinutes),
    warningMinutes: String(settings.warningMinutes),
    gpuThresholdPercent: String(settings.gpuThresholdPercent),
    maxSnoozes: String(settings.maxSnoozes),
    webhookUrl: settings.webhookUrl ?? "",
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);
  const [saved, setSaved] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    setError(null);
    const num = (v: string) => (v.trim() === "" ? NaN : Number(v));
    const res = await apiRequest("/api/admin/settings", {
      method: "PUT",
      body: {
        idleCulling: {
          timeoutMinutes: num(values.timeoutMinutes),
          warningMinutes: num(values.warningMinutes),
          gpuThresholdPercent: num(values.gpuThresholdPercent),
          maxSnoozes: num(values.maxSnoozes),
          webhookUrl: values.webhookUrl.trim() === "" ? null : values.webhookUrl.trim(),
        },
      },
      labels: LABELS,
    });
    setBusy(false);
    if (!res.ok) return setError(res.error);
    setSaved(true);
    router.refresh();
  }

  const invalid = (f: Field) => error?.fields.some((x) => x === f || x.endsWith(`.${f}`)) || undefined;
  const input = (f: Field, props: { type: string; min?: number; max?: number; placeholder?: string }) => (
    <div>
      <label htmlFor={`idle-${f}`} className={labelClass}>{LABELS[f]}</label>
      <input
        id={`idle-${f}`}
        {...props}
        value={values[f]}
        aria-invalid={invalid(f)}
        aria-describedby={error ? "idle-settings-error" : undefined}
        onChange={(e) => setValues((v) => ({ ...v, [f]: e.target.value }))}
        className={`${inputClass} ${f === "webhookUrl" ? "max-w-xl font-mono" : "max-w-[10rem] tabular-nums"}`}
      />
    </div>
  );

  return (
    <form onSubmit={onSubmit} noValidate className="mt-6">
      <section aria-labelledby="idle-heading" className={cardClass}>
        <h2 id="idle-heading" className="text-lg font-semibold">Idle workspaces</h2>
        <p className="mt-1 text-sm text-slate-600">
          A running workspace is idle when, for the whole timeout, nothing came through the proxy, no terminal or SSH session was open, no
          Jupyter kernel was busy or active, and each of its GPUs stayed under the threshold. Its owner is warned on the dashboard (with
          &ldquo;Keep running&rdquo;) and through the webhook; then it is stopped, never deleted: files in /workspace stay. 0 minutes turns
          this off. An image can have its own timeout (Images). Without GPU telemetry (no nvidia-smi, or it fails) a workspace holding
          GPUs is never taken for idle: what its GPUs do is unknown.
        </p>
        <div className="mt-4 grid gap-4 sm:grid-cols-2">
          {input("timeoutMinutes", { type: "number", min: 0, max: 43200 })}
          {input("warningMinutes", { type: "number", min: 1, max: 1440 })}
          {input("gpuThresholdPercent", { type: "number", min: 0, max: 100 })}
          {input("maxSnoozes", { type: "number", min: 0, max: 100 })}
        </div>
        <div className="mt-4">{input("webhookUrl", { type: "url", placeholder: "https://hooks.slack.com/services/…" })}</div>
        {error && <p id="idle-settings-error" role="alert" className={`mt-4 ${alertClass}`}>{error.message}</p>}
        <div className="mt-4 flex items-center gap-3">
          <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Saving…" : "Save idle settings"}</button>
          {saved && <span role="status" className="text-sm text-emerald-700">Saved</span>}
        </div>
      </section>
    </form>
  );
}
