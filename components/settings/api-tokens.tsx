"use client";

import { useRef, useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { LocalTime } from "../local-time";
import { alertClass, cardClass, dangerButton, inputClass, labelClass, primaryButton, secondaryButton, smallButton, successClass, tdClass } from "../form-styles";
import { DataTable } from "../data-table";

export type TokenRow = { id: string; name: string; prefix: string; createdAt: string; lastUsedAt: string | null };

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    // Only secure contexts (https, localhost) have the async clipboard.
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection-based copy.
  }
  if (!fallbackInput) return false;
  fallbackInput.select();
  return document.execCommand("copy");
}

export function ApiTokens({ tokens }: { tokens: TokenRow[] }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; token: string } | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);
  const [revokeBusy, setRevokeBusy] = useState(false);
  const [revokeError, setRevokeError] = useState<string | null>(null);
  const tokenInput = useRef<HTMLInputElement>(null);

  async function create(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    setCopied(null);
    if (!name.trim()) {
      setError("Give the token a name, so you can tell it apart later (e.g. “laptop” or “CI”).");
      return;
    }
    setBusy(true);
    const result = await apiRequest<{ token: string; name: string }>("/api/tokens", { method: "POST", body: { name: name.trim() }, labels: { name: "Token name" } });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    setCreated({ name: result.data.name, token: result.data.token });
    setName("");
    router.refresh();
  }

  async function revoke() {
    if (!revoking) return;
    setRevokeBusy(true);
    setRevokeError(null);
    const result = await apiRequest(`/api/tokens/${revoking.id}`, { method: "DELETE" });
    setRevokeBusy(false);
    if (!result.ok) {
      setRevokeError(result.error.message);
      return;
    }
    setRevoking(null);
    router.refresh();
  }

  return (
    <section aria-labelledby="tokens-heading" className={cardClass}>
      <h2 id="tokens-heading" className="text-lg font-semibold">API tokens</h2>
      <p className="mt-1 text-sm text-slate-600">
        A token lets scripts use the Gantry API as you: send it as <code className="text-xs">Authorization: Bearer &lt;token&gt;</code>.
      </p>

      <form onSubmit={create} noValidate className="mt-4 flex max-w-xl flex-col gap-3 sm:flex-row sm:items-end">
        <div className="sm:flex-1">
          <label htmlFor="token-name" className={labelClass}>Token name</label>
          <input id="token-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoComplete="off"
            placeholder="e.g. laptop" className={inputClass} aria-invalid={error ? true : undefined} aria-describedby={error ? "token-error" : undefined} />
        </div>
        <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Creating…" : "Create token"}</button>
      </form>
      {error && <p id="token-error" role="alert" className={`mt-3 ${alertClass}`}>{error}</p>}

      {created && (
        <div className={`mt-4 ${successClass}`} role="status">
          <p className="font-medium">Token “{created.name}” created. Copy it now: it is shown only this once.</p>
          <div className="mt-2 flex flex-col gap-2 sm:flex-row">
            <input readOnly value={created.token} aria-label="New API token" ref={tokenInput}
              onFocus={(e) => e.currentTarget.select()}
              className="block w-full rounded-md border border-emerald-300 bg-white px-3 py-2 font-mono text-xs text-slate-900" />
            <button type="button" className={secondaryButton}
              onClick={async () => setCopied((await copyText(created.token, tokenInput.current)) ? "Copied to the clipboard." : "Could not copy; select the token and copy it by hand.")}>
              Copy
            </button>
          </div>
          {copied && <p className="mt-1 text-xs">{copied}</p>}
        </div>
      )}

      <div className="relative mt-6 overflow-x-auto">
        {tokens.length === 0 ? (
          <p className="text-sm text-slate-600">You have no API tokens.</p>
        ) : (
          <DataTable bare caption="Your API tokens" columns={["Name", "Token", "Created", "Last used", { label: "Actions", hidden: true }]}>
            {tokens.map((t) => (
              <tr key={t.id}>
                <th scope="row" className={`${tdClass} text-left font-medium`}>{t.name}</th>
                <td className={`${tdClass} font-mono text-xs text-slate-600`}>{t.prefix}…</td>
                <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={t.createdAt} /></td>
                <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={t.lastUsedAt} relative empty="Never" /></td>
                <td className={`${tdClass} text-right`}>
                  <button type="button" className={`${dangerButton} ${smallButton}`} aria-label={`Revoke ${t.name}`}
                    onClick={() => { setRevokeError(null); setRevoking(t); }}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </div>

      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke the token “${revoking?.name ?? ""}”?`}
        confirmLabel="Revoke token"
        busyLabel="Revoking…"
        busy={revokeBusy}
        error={revokeError}
        onConfirm={revoke}
        onClose={() => setRevoking(null)}
      >
        <p>Scripts that use it stop working at once. This cannot be undone; you can create a new token any time.</p>
      </ConfirmDialog>
    </section>
  );
}
