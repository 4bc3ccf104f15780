"use client";

import { useState } from "react";
import { signOutToLogin } from "../sign-out-button";
import { apiRequest } from "../api-request";
import { alertClass, cardClass, inputClass, labelClass, primaryButton, successClass } from "../form-styles";

const LABELS = { currentPassword: "Current password", newPassword: "New password" };

export function ChangePasswordForm() {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string[]>([]);
  const [done, setDone] = useState(false);

  async function onSubmit(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    const missing = [!current && "currentPassword", next.length < 8 && "newPassword"].filter(Boolean) as string[];
    if (missing.length) {
      setInvalid(missing);
      setError(missing.includes("currentPassword") ? "Enter your current password." : "The new password must be at least 8 characters.");
      return;
    }
    setBusy(true);
    const result = await apiRequest("/api/me/password", { method: "POST", body: { currentPassword: current, newPassword: next }, labels: LABELS });
    setBusy(false);
    if (!result.ok) {
      setInvalid(result.error.fields);
      setError(result.error.message);
      return;
    }
    setInvalid([]);
    setCurrent("");
    setNext("");
    setDone(true);
  }

  return (
    <section aria-labelledby="password-heading" className={cardClass}>
      <h2 id="password-heading" className="text-lg font-semibold">Change password</h2>
      {done ? (
        <div role="status" className={`mt-4 ${successClass}`}>
          <p className="font-medium">Your password was changed.</p>
          <p className="mt-1">For safety every session of yours has ended, this one included: you will need to sign in again with the new password.</p>
          <button type="button" onClick={() => void signOutToLogin()}
            className="mt-3 rounded-md bg-emerald-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-emerald-800">
            Sign in again
          </button>
        </div>
      ) : (
        <form onSubmit={onSubmit} noValidate className="mt-4 max-w-md space-y-4">
          <div>
            <label htmlFor="current-password" className={labelClass}>Current password</label>
            <input id="current-password" type="password" autoComplete="current-password" value={current} maxLength={256}
              onChange={(e) => setCurrent(e.target.value)} className={inputClass}
              aria-invalid={invalid.includes("currentPassword") || undefined} aria-describedby={error ? "password-error" : undefined} />
          </div>
          <div>
            <label htmlFor="new-password" className={labelClass}>New password</label>
            <input id="new-password" type="password" autoComplete="new-password" value={next} maxLength={72}
              onChange={(e) => setNext(e.target.value)} className={inputClass}
              aria-invalid={invalid.includes("newPassword") || undefined} aria-describedby={`new-password-hint${error ? " password-error" : ""}`} />
            <p id="new-password-hint" className="mt-1 text-xs text-slate-500">At least 8 characters.</p>
          </div>
          {error && <p id="password-error" role="alert" className={alertClass}>{error}</p>}
          <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Changing…" : "Change password"}</button>
        </form>
      )}
    </section>
  );
}
