"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { LocalTime } from "../local-time";
import { alertClass, cardClass, dangerButton, inputClass, labelClass, primaryButton, smallButton, tdClass } from "../form-styles";
import { DataTable } from "../data-table";

export type SshKeyRow = { id: string; name: string; fingerprint: string; type: string; createdAt: string };
export type GatewayIdentity = { host: string; port: number; fingerprint: string } | null;

export function SshKeys({ keys, gateway }: { keys: SshKeyRow[]; gateway: GatewayIdentity }) {
  const router = useRouter();
  const [name, setName] = useState("");
  const [publicKey, setPublicKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [removing, setRemoving] = useState<SshKeyRow | null>(null);
  const [removeBusy, setRemoveBusy] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);

  async function add(e: React.FormEvent) {
    e.preventDefault();
    setError(null);
    if (!publicKey.trim()) {
      setError("Paste your public key: the contents of a .pub file, e.g. ~/.ssh/id_ed25519.pub.");
      return;
    }
    setBusy(true);
    const result = await apiRequest("/api/me/ssh-keys", { method: "POST", body: { name: name.trim() || undefined, publicKey }, labels: { name: "Key name", publicKey: "Public key" } });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    setName("");
    setPublicKey("");
    router.refresh();
  }

  async function remove() {
    if (!removing) return;
    setRemoveBusy(true);
    setRemoveError(null);
    const result = await apiRequest(`/api/me/ssh-keys/${removing.id}`, { method: "DELETE" });
    setRemoveBusy(false);
    if (!result.ok) {
      setRemoveError(result.error.message);
      return;
    }
    setRemoving(null);
    router.refresh();
  }

  return (
    <section aria-labelledby="ssh-keys-heading" className={cardClass}>
      <h2 id="ssh-keys-heading" className="text-lg font-semibold">SSH keys</h2>
      <p className="mt-1 text-sm text-slate-600">
        Your keys sign you in to your running workspaces over SSH (and VS Code Remote-SSH): <code className="text-xs">ssh -p {gateway?.port ?? 2222} &lt;workspace&gt;@{gateway?.host ?? "host"}</code>.
        Each workspace card shows a ready <code className="text-xs">~/.ssh/config</code> block.
      </p>
      {gateway && (
        <p className="mt-1 text-sm text-slate-600">
          The gateway&apos;s host key fingerprint: <code className="break-all font-mono text-xs" data-testid="ssh-host-fingerprint">{gateway.fingerprint}</code>
        </p>
      )}

      <form onSubmit={add} noValidate className="mt-4 flex max-w-2xl flex-col gap-3">
        <div>
          <label htmlFor="ssh-key-name" className={labelClass}>Key name</label>
          <input id="ssh-key-name" value={name} onChange={(e) => setName(e.target.value)} maxLength={100} autoComplete="off"
            placeholder="e.g. laptop (the key's comment if left empty)" className={inputClass} />
        </div>
        <div>
          <label htmlFor="ssh-public-key" className={labelClass}>Public key</label>
          <textarea id="ssh-public-key" value={publicKey} onChange={(e) => setPublicKey(e.target.value)} rows={3} spellCheck={false}
            placeholder="ssh-ed25519 AAAA… you@laptop" className={`${inputClass} font-mono text-xs`}
            aria-invalid={error ? true : undefined} aria-describedby={error ? "ssh-key-error" : "ssh-key-help"} />
          <p id="ssh-key-help" className="mt-1 text-xs text-slate-500">ed25519, ecdsa or rsa (2048 bits or more); one key per line, no options.</p>
        </div>
        <div>
          <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Adding…" : "Add key"}</button>
        </div>
      </form>
      {error && <p id="ssh-key-error" role="alert" className={`mt-3 ${alertClass}`}>{error}</p>}

      <div className="relative mt-6 overflow-x-auto">
        {keys.length === 0 ? (
          <p className="text-sm text-slate-600">You have no SSH keys.</p>
        ) : (
          <DataTable bare caption="Your SSH keys" columns={["Name", "Fingerprint", "Added", { label: "Actions", hidden: true }]}>
            {keys.map((k) => (
              <tr key={k.id}>
                <th scope="row" className={`${tdClass} text-left font-medium`}>{k.name}</th>
                <td className={`${tdClass} font-mono text-xs text-slate-600`}>{k.fingerprint} <span className="text-slate-400">({k.type})</span></td>
                <td className={`${tdClass} whitespace-nowrap`}><LocalTime value={k.createdAt} /></td>
                <td className={`${tdClass} text-right`}>
                  <button type="button" className={`${dangerButton} ${smallButton}`} aria-label={`Remove ${k.name}`}
                    onClick={() => { setRemoveError(null); setRemoving(k); }}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </div>

      <ConfirmDialog
        open={removing !== null}
        title={`Remove the SSH key “${removing?.name ?? ""}”?`}
        confirmLabel="Remove key"
        busyLabel="Removing…"
        busy={removeBusy}
        error={removeError}
        onConfirm={remove}
        onClose={() => setRemoving(null)}
      >
        <p>SSH sessions signed in with it end within seconds, and it can no longer sign in. You can add it again later.</p>
      </ConfirmDialog>
    </section>
  );
}
