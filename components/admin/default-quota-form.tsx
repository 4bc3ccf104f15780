"use client";

import { apiRequest } from "../api-request";
import { alertClass, cardClass, inputClass, labelClass, primaryButton } from "../form-styles";
import { QUOTA_FIELDS, QUOTA_LABELS, type QuotaValues } from "./quota-fields";
import { useQuotaForm } from "./use-quota-form";
import { BudgetFields } from "./budget-fields";

export function DefaultQuotaForm({ quota }: { quota: QuotaValues }) {
  const { draft, edit, busy, error, invalid, saved, onSubmit } = useQuotaForm(
    quota,
    (values) =>
      apiRequest("/api/admin/settings", {
        method: "PUT",
        body: { defaultQuota: values },
        // Settings errors name fields as "defaultQuota.maxGpus"; the last part is what the form shows.
        labels: Object.fromEntries(Object.entries(QUOTA_LABELS).map(([k, v]) => [`defaultQuota.${k}`, `Default ${v}`])),
      }),
    (field) => field.replace(/^defaultQuota\./, ""),
  );

  return (
    <section aria-labelledby="default-quota-heading" className={cardClass}>
      <h2 id="default-quota-heading" className="text-lg font-semibold">Default quota for new users</h2>
      <p className="mt-1 text-sm text-slate-600">Every new user starts with a copy of it. Changing it later leaves existing users' quotas as they are; change those in the table above.</p>
      <form onSubmit={onSubmit} noValidate className="mt-4">
        <div className="grid max-w-2xl grid-cols-2 gap-3 sm:grid-cols-4">
          {QUOTA_FIELDS.map((f) => (
            <div key={f.key}>
              <label htmlFor={`default-${f.key}`} className={labelClass}>{f.label}</label>
              <input id={`default-${f.key}`} type="number" min={0} max={f.max} step={f.step} value={draft[f.key]}
                aria-label={`Default ${f.label}`}
                aria-invalid={invalid.includes(f.key) || undefined} aria-describedby={error ? "default-quota-error" : undefined}
                onChange={(e) => edit(f.key, e.target.value)} className={inputClass} />
            </div>
          ))}
          <div className="col-span-2">
            <span className={labelClass}>GPU-hour budget</span>
            <BudgetFields draft={draft} edit={edit} invalid={invalid} idPrefix="default" labelSuffix=" (default)" inputClass={inputClass} describedBy={error ? "default-quota-error" : undefined} />
          </div>
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
