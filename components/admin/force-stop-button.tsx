"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { dangerButton, smallButton } from "../form-styles";

export function ForceStopButton({ workspaceId, name, owner, disabled }: { workspaceId: string; name: string; owner: string; disabled: boolean }) {
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function stop() {
    setBusy(true);
    setError(null);
    const result = await apiRequest(`/api/workspaces/${workspaceId}/stop`, { method: "POST" });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    setOpen(false);
    router.refresh();
  }

  return (
    <>
      <button type="button" disabled={disabled || busy} className={`${dangerButton} ${smallButton}`} aria-label={`Force stop ${name} of ${owner}`}
        onClick={() => { setError(null); setOpen(true); }}>
        {busy ? "Stopping…" : "Force stop"}
      </button>
      <ConfirmDialog
        open={open}
        title={`Force stop “${name}” of ${owner}?`}
        confirmLabel="Force stop"
        busyLabel="Stopping…"
        busy={busy}
        error={error}
        onConfirm={stop}
        onClose={() => setOpen(false)}
      >
        <p>The container stops now and its GPUs go back to the pool. Unsaved work in running notebooks is lost; files on disk, inside and outside /workspace, are kept until the owner resets or deletes it.</p>
      </ConfirmDialog>
    </>
  );
}
