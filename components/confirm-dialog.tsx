"use client";

import { useEffect, useId, useRef, useState } from "react";

type Props = {
  open: boolean;
  title: string;
  children: React.ReactNode;
  /** The confirm button's name: the action itself ("Delete workspace"), never a bare "OK". */
  confirmLabel: string;
  busyLabel?: string;
  busy?: boolean;
  error?: string | null;
  tone?: "danger" | "primary";
  onConfirm: () => void;
  onClose: () => void;
};

/**
 * A modal confirmation on the native <dialog> element: role dialog, focus kept inside, Escape closes it, and the
 * rest of the page is inert while it is open. Focus starts on "Cancel" so that Enter never destroys anything.
 *
 * Nothing is rendered until it is first opened: a page of cards or user rows carries two confirmations per row, and
 * most are never opened (the home page's HTML shrank by a third). Once opened it stays in the page, closed, so that
 * closing it hands focus back to the button that opened it (the native dialog's own focus return).
 */
export function ConfirmDialog({ open, title, children, confirmLabel, busyLabel, busy = false, error, tone = "danger", onConfirm, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const bodyId = useId();
  const [mounted, setMounted] = useState(open);
  if (open && !mounted) setMounted(true);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open, mounted]);

  const confirmClass =
    tone === "danger" ? "bg-red-600 hover:bg-red-700 focus-visible:outline-red-600" : "bg-brand-600 hover:bg-brand-700 focus-visible:outline-brand-600";

  if (!mounted) return null;
  return (
    <dialog
      ref={ref}
      aria-labelledby={titleId}
      aria-describedby={bodyId}
      onClose={onClose}
      onCancel={(e) => {
        if (busy) e.preventDefault();
      }}
      className="m-auto w-[calc(100%-2rem)] max-w-lg rounded-xl border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50"
    >
      <div className="p-6">
        <h2 id={titleId} className="text-lg font-semibold">{title}</h2>
        <div id={bodyId} className="mt-3 space-y-2 text-sm text-slate-700">{children}</div>
        {error && (
          <p role="alert" className="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p>
        )}
        <div className="mt-6 flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
          <button type="button" autoFocus onClick={onClose} disabled={busy}
            className="rounded-md border border-slate-300 bg-white px-4 py-2 text-sm font-medium hover:bg-slate-50 disabled:opacity-60">
            Cancel
          </button>
          <button type="button" onClick={onConfirm} disabled={busy} aria-label={confirmLabel}
            className={`rounded-md px-4 py-2 text-sm font-medium text-white focus-visible:outline-2 focus-visible:outline-offset-2 disabled:opacity-60 ${confirmClass}`}>
            {busy && busyLabel ? busyLabel : confirmLabel}
          </button>
        </div>
      </div>
    </dialog>
  );
}
