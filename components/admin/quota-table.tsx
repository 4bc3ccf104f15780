"use client";

import { apiRequest } from "../api-request";
import { formatNumber } from "../format";
import { alertClass, primaryButton, tdClass } from "../form-styles";
import { DataTable } from "../data-table";
import { QUOTA_FIELDS, QUOTA_LABELS, type QuotaValues } from "./quota-fields";
import { useQuotaForm } from "./use-quota-form";
import { BudgetFields } from "./budget-fields";

export type QuotaUser = {
  id: string;
  email: string;
  name: string;
  role: "admin" | "user";
  disabled: boolean;
  quota: QuotaValues;
  usage: { gpus: number; memoryGb: number; cpus: number; workspaces: number };
  /** GPU-hours used in the budget's current period, when the quota has a budget. */
  budgetUsed: number | null;
};

const cellInput =
  "block w-20 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm tabular-nums focus:border-brand-600 focus:outline-none focus:ring-2 focus:ring-brand-600/30 aria-[invalid=true]:border-red-500";

function QuotaRow({ user }: { user: QuotaUser }) {
  const { draft, edit, busy, error, invalid, saved, onSubmit } = useQuotaForm(user.quota, (values) =>
    apiRequest(`/api/admin/users/${user.id}/quota`, { method: "PUT", body: values, labels: QUOTA_LABELS }),
  );
  const formId = `quota-${user.id}`;
  const errorId = `quota-error-${user.id}`;

  return (
    <>
      <tr className={error ? "bg-red-50/40" : undefined}>
        <th scope="row" className={`${tdClass} sticky left-0 z-10 bg-white text-left font-normal`}>
          <span className="block font-medium">{user.email}</span>
          <span className="block text-xs text-slate-500">
            {user.name}
            {user.role === "admin" ? " · admin" : ""}
            {user.disabled ? " · disabled" : ""}
          </span>
        </th>
        {QUOTA_FIELDS.map((f) => {
          const used = user.usage[f.usageKey];
          const over = used > user.quota[f.key];
          return (
            <td key={f.key} className={tdClass}>
              <input
                form={formId}
                type="number"
                inputMode={f.step === 1 ? "numeric" : "decimal"}
                min={0}
                max={f.max}
                step={f.step}
                aria-label={`${f.label} for ${user.email}`}
                aria-invalid={invalid.includes(f.key) || undefined}
                aria-describedby={`${formId}-${f.key}-use${error ? ` ${errorId}` : ""}`}
                value={draft[f.key]}
                onChange={(e) => edit(f.key, e.target.value)}
                className={cellInput}
              />
              <span id={`${formId}-${f.key}-use`} className={`mt-1 block text-xs tabular-nums ${over ? "font-medium text-red-700" : "text-slate-500"}`}>
                {formatNumber(used)} of {formatNumber(user.quota[f.key])} in use
              </span>
            </td>
          );
        })}
        <td className={tdClass}>
          <BudgetFields draft={draft} edit={edit} invalid={invalid} idPrefix={formId} labelSuffix={` for ${user.email}`} inputClass={cellInput} describedBy={`${formId}-budget-use`} />
          <span id={`${formId}-budget-use`} className="mt-1 block text-xs tabular-nums text-slate-500">
            {user.budgetUsed === null ? "No budget" : `${formatNumber(Math.round(user.budgetUsed * 100) / 100)} used this ${user.quota.budgetPeriod}`}
          </span>
        </td>
        <td className={`${tdClass} whitespace-nowrap`}>
          <form id={formId} onSubmit={onSubmit} noValidate className="flex items-center gap-2">
            <button type="submit" disabled={busy} aria-label={`Save quota for ${user.email}`} className={`${primaryButton} !py-1.5`}>
              {busy ? "Saving…" : "Save"}
            </button>
            {saved && <span role="status" className="text-xs text-emerald-700">Saved</span>}
          </form>
        </td>
      </tr>
      {error && (
        <tr>
          <td colSpan={QUOTA_FIELDS.length + 3} className="px-3 pb-3">
            <p id={errorId} role="alert" className={alertClass}>{user.email}: {error}</p>
          </td>
        </tr>
      )}
    </>
  );
}

export function QuotaTable({ users }: { users: QuotaUser[] }) {
  return (
    <DataTable caption="Quota and current use per user" columns={[{ label: "User", className: "sticky left-0 z-10 bg-slate-50" }, ...QUOTA_FIELDS.map((f) => f.label), "GPU-hour budget", { label: "Save", hidden: true }]}>
      {users.map((u) => (
        <QuotaRow key={u.id} user={u} />
      ))}
    </DataTable>
  );
}
