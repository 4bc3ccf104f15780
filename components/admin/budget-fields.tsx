"use client";

import type { QuotaDraft, QuotaKey } from "./quota-fields";

/** The GPU-hour budget of a quota form: hours (empty for none) and whether they are per week or per month. */
export function BudgetFields({
  draft,
  edit,
  invalid,
  idPrefix,
  labelSuffix,
  inputClass,
  describedBy,
}: {
  draft: QuotaDraft;
  edit: (key: QuotaKey | "budgetPeriod", value: string) => void;
  invalid: QuotaKey[];
  idPrefix: string;
  labelSuffix: string;
  inputClass: string;
  describedBy?: string;
}) {
  return (
    <div className="flex items-center gap-1">
      <input
        id={`${idPrefix}-gpuHoursBudget`}
        type="number"
        min={0}
        step="any"
        inputMode="decimal"
        placeholder="none"
        aria-label={`GPU-hour budget${labelSuffix}`}
        aria-invalid={invalid.includes("gpuHoursBudget") || undefined}
        aria-describedby={describedBy}
        value={draft.gpuHoursBudget}
        onChange={(e) => edit("gpuHoursBudget", e.target.value)}
        className={inputClass}
      />
      <select
        aria-label={`Budget period${labelSuffix}`}
        value={draft.budgetPeriod}
        onChange={(e) => edit("budgetPeriod", e.target.value)}
        className="rounded-md border border-slate-300 bg-white px-1 py-1.5 text-sm"
      >
        <option value="week">/ week</option>
        <option value="month">/ month</option>
      </select>
    </div>
  );
}
