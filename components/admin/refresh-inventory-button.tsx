"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { alertClass, secondaryButton, successClass } from "../form-styles";

type RefreshResult = { inventory: { error: string | null; warnings: string[] }; gpus: unknown[] };

export function RefreshInventoryButton() {
  const router = useRouter();
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "error" | "ok"; text: string } | null>(null);

  async function refresh() {
    setBusy(true);
    setMessage(null);
    const result = await apiRequest<RefreshResult>("/api/admin/gpus/refresh", { method: "POST" });
    setBusy(false);
    if (!result.ok) {
      setMessage({ kind: "error", text: result.error.message });
      return;
    }
    const { inventory, gpus } = result.data;
    setMessage(
      inventory.error
        ? { kind: "error", text: `The inventory could not be read: ${inventory.error}` }
        : { kind: "ok", text: `Inventory refreshed: ${gpus.length} GPU${gpus.length === 1 ? "" : "s"} found.` },
    );
    router.refresh();
  }

  return (
    <div className="flex flex-col items-end gap-2">
      <button type="button" onClick={refresh} disabled={busy} className={secondaryButton}>
        {busy ? "Refreshing…" : "Refresh inventory"}
      </button>
      {message && (
        <p role={message.kind === "error" ? "alert" : "status"} className={`max-w-md text-sm ${message.kind === "error" ? alertClass : successClass}`}>
          {message.text}
        </p>
      )}
    </div>
  );
}
