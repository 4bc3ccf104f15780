"use client";

import { useState, type FormEvent } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { alertClass, cardClass, inputClass, labelClass, primaryButton } from "../form-styles";

type Props = {
  allowAdminWorkspaceAccess: boolean;
  dataPath: string | null;
  /** Null when admin access can be turned on here; otherwise why it cannot. */
  adminAccessBlockedBecause: string | null;
};

/** The settings that decide what reaches workspaces: admin access to other users' workspaces, and /data. */
export function HostSettingsForm({ allowAdminWorkspaceAccess, dataPath, adminAccessBlockedBecause }: Props) {
  const router = useRouter();
  const [access, setAccess] = useState(allowAdminWorkspaceAccess);
  const [path, setPath] = useState(dataPath ?? "");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; fields: string[] } | null>(null);
  const [saved, setSaved] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setSaved(false);
    setError(null);
    const body: Record<string, unknown> = { dataPath: path.trim() === "" ? null : path.trim() };
    // Only sent when it can be on here, or to turn it off.
    if (!adminAccessBlockedBecause || !access) body.allowAdminWorkspaceAccess = access;
    const res = await apiRequest<{ dataPath: string | null }>("/api/admin/settings", {
      method: "PUT",
      body,
      labels: { dataPath: "Shared data directory", allowAdminWorkspaceAccess: "Admin access" },
    });
    setBusy(false);
    if (!res.ok) return setError(res.error);
    setPath(res.data.dataPath ?? "");
    setSaved(true);
    router.refresh();
  }

  const invalid = (field: string) => error?.fields.includes(field) || undefined;

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-6">
      <section aria-labelledby="admin-access-heading" className={cardClass}>
        <h2 id="admin-access-heading" className="text-lg font-semibold">Admin access to users&apos; workspaces</h2>
        <p className="mt-1 text-sm text-slate-600">
          When on, admins may open any user&apos;s workspace through the proxy (for support). Every such use is in the audit log.
        </p>
        <div className="mt-3 flex items-start gap-2">
          <input
            id="admin-access"
            type="checkbox"
            checked={access && !adminAccessBlockedBecause}
            disabled={!!adminAccessBlockedBecause}
            aria-describedby={adminAccessBlockedBecause ? "admin-access-blocked" : undefined}
            aria-invalid={invalid("allowAdminWorkspaceAccess")}
            onChange={(e) => setAccess(e.target.checked)}
            className="mt-1"
          />
          <label htmlFor="admin-access" className={labelClass}>Let admins open other users&apos; workspaces</label>
        </div>
        {adminAccessBlockedBecause && (
          <p id="admin-access-blocked" className="mt-2 text-sm text-amber-800">{adminAccessBlockedBecause}</p>
        )}
      </section>

      <section aria-labelledby="data-path-heading" className={cardClass}>
        <h2 id="data-path-heading" className="text-lg font-semibold">Shared data</h2>
        <p className="mt-1 text-sm text-slate-600">
          A host directory mounted read-only at /data in every workspace (datasets, model weights). Leave empty for none.
          System directories, Docker&apos;s own and Gantry&apos;s data directory are refused, however they are spelled.
        </p>
        <label htmlFor="data-path" className={`mt-3 ${labelClass}`}>Shared data directory</label>
        <input
          id="data-path"
          type="text"
          value={path}
          placeholder="/srv/datasets"
          spellCheck={false}
          aria-invalid={invalid("dataPath")}
          aria-describedby={error ? "host-settings-error" : undefined}
          onChange={(e) => setPath(e.target.value)}
          className={`${inputClass} max-w-xl font-mono`}
        />
      </section>

      {error && <p id="host-settings-error" role="alert" className={alertClass}>{error.message}</p>}
      <div className="flex items-center gap-3">
        <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Saving…" : "Save settings"}</button>
        {saved && <span role="status" className="text-sm text-emerald-700">Saved</span>}
      </div>
    </form>
  );
}
