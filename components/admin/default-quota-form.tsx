"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { alertClass, cardClass, inputClass, labelClass, primaryButton } from "../form-styles";
import { QUOTA_FIELDS, QUOTA_LABELS, parseQuota, toDraft, type QuotaKey, type QuotaValues } from "./quota-fields";

export function DefaultQuotaForm({ quota }: { quota: QuotaValues }) {
  const router = useRouter();
  const [draft, setDraft] = useState(toDraft(quota));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<QuotaKey[]>([]);
  const [saved, setSaved] = useState(false);

  async function onSubmit(e: React.FormEvent) {
    e.preventDefault();
    setSaved(false);
    const parsed = parseQuota(draft);
    if ("invalid" in parsed) {
      setInvalid(parsed.invalid);
      setError(`Enter a number for ${parsed.invalid.map((k) => QUOTA_LABELS[k]).join(", ")}.`);
      return;
    }
    setBusy(true);
    const result = await apiRequest("/api/admin/settings", {
      method: "PUT",
      body: { defaultQuota: parsed.values },
      // Settings errors name fields as "defaultQuota.maxGpus"; the last part is what the form shows.
      labels: Object.fromEntries(Object.entries(QUOTA_LABELS).map(([k, v]) => [`defaultQuota.${k}`, `Default ${v}`])),
    });
    setBusy(false);
    if (!result.ok) {
      setInvalid(result.error.fields.map((f) => f.replace(/^defaultQuota\./, "")).filter((f): f is QuotaKey => f in QUOTA_LABELS));
      setError(result.error.message);
      return;
    }
    setInvalid([]);
    setError(null);
    setSaved(true);
    router.refresh();
  }

  return (
    <section aria-labelledby="default-quota-heading" className={cardClass}>
      <h2 id="default-quota-heading" className="text-lg font-semibold">Default quota for new users</h2>
      <p className="mt-1 text-sm text-slate-600">Applies to every user who has no quota of their own (new users, and users never saved above).</p>
      <form onSubmit={onSubmit} noValidate className="mt-4">
        <div className="grid max-w-2xl grid-cols-2 gap-3 sm:grid-cols-4">
          {QUOTA_FIELDS.map((f) => (
            <div key={f.key}>
              <label htmlFor={`default-${f.key}`} className={labelClass}>{f.label}</label>
              <input id={`default-${f.key}`} type="number" min={0} max={f.max} step={f.step} value={draft[f.key]}
                aria-label={`Default ${f.label}`}
                aria-invalid={invalid.includes(f.key) || undefined} aria-describedby={error ? "default-quota-error" : undefined}
                onChange={(e) => { setSaved(false); setDraft({ ...draft, [f.key]: e.target.value }); }} className={inputClass} />
            </div>
          ))}
        </div>
        {error && <p id="default-quota-error" role="alert" className={`mt-3 ${alertClass}`}>{error}</p>}
        <div className="mt-4 flex items-center gap-3">
          <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Saving…" : "Save default quota"}</button>
          {saved && <span role="status" className="text-sm text-emerald-700">Saved</span>}
        </div>
      </form>
    </section>
  );
}
