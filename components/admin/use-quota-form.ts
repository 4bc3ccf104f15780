"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import type { ApiResult } from "../api-request";
import { QUOTA_LABELS, parseQuota, toDraft, type QuotaKey, type QuotaValues } from "./quota-fields";

/**
 * The state of a quota form (a user's row, or the default quota): the draft as typed, which fields are invalid, the
 * error to show, and `onSubmit`, which checks the draft, calls `save` with the numbers and refreshes the page.
 * `fieldOf` maps a field name in an API error to the quota key it is about.
 */
export function useQuotaForm(initial: QuotaValues, save: (values: QuotaValues) => Promise<ApiResult<unknown>>, fieldOf: (field: string) => string = (f) => f) {
  const router = useRouter();
  const [draft, setDraft] = useState(toDraft(initial));
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
    const result = await save(parsed.values);
    setBusy(false);
    if (!result.ok) {
      setInvalid(result.error.fields.map(fieldOf).filter((f): f is QuotaKey => f in QUOTA_LABELS));
      setError(result.error.message);
      return;
    }
    setInvalid([]);
    setError(null);
    setSaved(true);
    router.refresh();
  }

  function edit(key: QuotaKey | "budgetPeriod", value: string) {
    setSaved(false);
    setDraft((d) => ({ ...d, [key]: value }));
  }

  return { draft, edit, busy, error, invalid, saved, onSubmit };
}
