"use client";

import { useState } from "react";
import { useRouter } from "next/navigation";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { alertClass, cardClass, dangerButton, inputClass, labelClass, primaryButton, secondaryButton, smallButton, successClass } from "../form-styles";
import { EmptyState } from "../data-table";
import type { ImageView } from "@/lib/images/catalog";

/** A catalog entry as the page shows it: the domain's view (timestamps left out) and how many workspaces use it. */
export type CatalogImageRow = Omit<ImageView, "createdAt" | "updatedAt"> & { workspaces: number };

const LABELS = { name: "Name", ref: "Image reference", description: "Description", command: "Start command", port: "Port", cudaVersion: "CUDA version", idleTimeoutMinutes: "Idle timeout (minutes)" };
type Field = keyof typeof LABELS;
type Draft = Record<Field, string>;

const EMPTY: Draft = { name: "", ref: "", description: "", command: "", port: "8888", cudaVersion: "", idleTimeoutMinutes: "" };

function toDraft(i: CatalogImageRow): Draft {
  return { name: i.name, ref: i.ref, description: i.description, command: i.command ?? "", port: String(i.port), cudaVersion: i.cudaVersion ?? "", idleTimeoutMinutes: i.idleTimeoutMinutes === null ? "" : String(i.idleTimeoutMinutes) };
}

function toBody(d: Draft) {
  return {
    name: d.name,
    ref: d.ref,
    description: d.description,
    // Empty means "the image's own CMD" and "no CUDA requirement".
    command: d.command.trim() ? d.command : null,
    port: d.port.trim() === "" ? Number.NaN : Number(d.port),
    cudaVersion: d.cudaVersion.trim() ? d.cudaVersion : null,
    // Empty follows the host's idle setting.
    idleTimeoutMinutes: d.idleTimeoutMinutes.trim() === "" ? null : Number(d.idleTimeoutMinutes),
  };
}

function ImageForm({ initial, submitLabel, onSubmit, onCancel, idPrefix }: {
  initial: Draft;
  submitLabel: string;
  idPrefix: string;
  onSubmit: (body: ReturnType<typeof toBody>) => Promise<{ message: string; fields: string[] } | null>;
  onCancel?: () => void;
}) {
  const [draft, setDraft] = useState(initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<string[]>([]);
  const errorId = `${idPrefix}-error`;

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    const body = toBody(draft);
    if (!Number.isInteger(body.port)) {
      setInvalid(["port"]);
      setError("Port: enter the port the image's server listens on (e.g. 8888).");
      return;
    }
    setBusy(true);
    const failure = await onSubmit(body);
    setBusy(false);
    setError(failure?.message ?? null);
    setInvalid(failure?.fields ?? []);
    if (!failure && !onCancel) setDraft(EMPTY);
  }

  const input = (key: Field) => ({
    id: `${idPrefix}-${key}`,
    value: draft[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => setDraft({ ...draft, [key]: e.target.value }),
    "aria-invalid": invalid.includes(key) || undefined,
    "aria-describedby": [`${idPrefix}-${key}-hint`, error ? errorId : ""].filter(Boolean).join(" "),
    className: inputClass,
  });

  return (
    <form onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
      <div>
        <label htmlFor={`${idPrefix}-name`} className={labelClass}>Name</label>
        <input maxLength={100} autoComplete="off" {...input("name")} />
        <p id={`${idPrefix}-name-hint`} className="mt-1 text-xs text-slate-500">What users pick from, e.g. “PyTorch 2.4 (CUDA 12.1)”.</p>
      </div>
      <div>
        <label htmlFor={`${idPrefix}-ref`} className={labelClass}>Image reference</label>
        <input maxLength={255} autoComplete="off" spellCheck={false} {...input("ref")} className={`${inputClass} font-mono`} />
        <p id={`${idPrefix}-ref-hint`} className="mt-1 text-xs text-slate-500">Pinned by tag or digest, never “latest”.</p>
      </div>
      <div className="sm:col-span-2">
        <label htmlFor={`${idPrefix}-command`} className={labelClass}>Start command</label>
        <input maxLength={2000} autoComplete="off" spellCheck={false} {...input("command")} className={`${inputClass} font-mono`} />
        <p id={`${idPrefix}-command-hint`} className="mt-1 text-xs text-slate-500">
          Runs without a shell; <code>{"{port}"}</code> and <code>{"{base_url}"}</code> are filled in. Leave empty to run the image’s own command.
        </p>
      </div>
      <div>
        <label htmlFor={`${idPrefix}-port`} className={labelClass}>Port</label>
        <input type="number" min={1} max={65535} inputMode="numeric" {...input("port")} />
        <p id={`${idPrefix}-port-hint`} className="mt-1 text-xs text-slate-500">Where the notebook server listens inside the container.</p>
      </div>
      <div>
        <label htmlFor={`${idPrefix}-cudaVersion`} className={labelClass}>CUDA version</label>
        <input maxLength={10} placeholder="e.g. 12.1" autoComplete="off" {...input("cudaVersion")} />
        <p id={`${idPrefix}-cudaVersion-hint`} className="mt-1 text-xs text-slate-500">The CUDA the image needs; GPU launches check the driver supports it. Empty for none.</p>
      </div>
      <div>
        <label htmlFor={`${idPrefix}-idleTimeoutMinutes`} className={labelClass}>Idle timeout (minutes)</label>
        <input type="number" min={0} max={43200} inputMode="numeric" {...input("idleTimeoutMinutes")} />
        <p id={`${idPrefix}-idleTimeoutMinutes-hint`} className="mt-1 text-xs text-slate-500">Empty follows Host settings; 0 never stops this image&apos;s workspaces for being idle.</p>
      </div>
      <div className="sm:col-span-2">
        <label htmlFor={`${idPrefix}-description`} className={labelClass}>Description <span className="font-normal text-slate-500">(optional)</span></label>
        <textarea rows={2} maxLength={1000} {...input("description")} />
        <p id={`${idPrefix}-description-hint`} className="sr-only">Shown to users under the image name.</p>
      </div>
      {error && <p id={errorId} role="alert" className={`sm:col-span-2 ${alertClass}`}>{error}</p>}
      <div className="flex gap-2 sm:col-span-2">
        <button type="submit" disabled={busy} className={primaryButton}>{busy ? "Saving…" : submitLabel}</button>
        {onCancel && <button type="button" onClick={onCancel} className={secondaryButton}>Cancel</button>}
      </div>
    </form>
  );
}

export function AddImageForm() {
  const router = useRouter();
  const [notice, setNotice] = useState<string | null>(null);
  return (
    <section aria-labelledby="add-image-heading" className={cardClass}>
      <h2 id="add-image-heading" className="mb-4 text-lg font-semibold">Add an image</h2>
      <ImageForm
        idPrefix="new-image"
        initial={EMPTY}
        submitLabel="Add image"
        onSubmit={async (body) => {
          setNotice(null);
          const result = await apiRequest<{ name: string }>("/api/admin/images", { method: "POST", body, labels: LABELS });
          if (!result.ok) return { message: result.error.message, fields: result.error.fields };
          setNotice(`Added “${result.data.name}” to the catalog.`);
          router.refresh();
          return null;
        }}
      />
      {notice && <p role="status" className={`mt-3 ${successClass}`}>{notice}</p>}
    </section>
  );
}

function ImageCard({ image }: { image: CatalogImageRow }) {
  const router = useRouter();
  const [editing, setEditing] = useState(false);
  const [removing, setRemoving] = useState(false);
  const [busy, setBusy] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);
  const headingId = `image-${image.id}`;

  async function remove() {
    setBusy(true);
    const result = await apiRequest(`/api/admin/images/${image.id}`, { method: "DELETE" });
    setBusy(false);
    if (!result.ok) {
      setRemoveError(result.error.message);
      return;
    }
    setRemoving(false);
    router.refresh();
  }

  return (
    <article aria-labelledby={headingId} className={cardClass}>
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h3 id={headingId} className="font-semibold">{image.name}</h3>
          {image.description && <p className="text-sm text-slate-600">{image.description}</p>}
        </div>
        {!editing && (
          <div className="flex gap-2">
            <button type="button" className={`${secondaryButton} ${smallButton}`} aria-label={`Edit ${image.name}`} onClick={() => setEditing(true)}>Edit</button>
            <button type="button" className={`${dangerButton} ${smallButton}`} aria-label={`Remove ${image.name}`}
              onClick={() => { setRemoveError(null); setRemoving(true); }}>
              Remove
            </button>
          </div>
        )}
      </div>
      {editing ? (
        <div className="mt-4">
          <ImageForm
            idPrefix={`edit-${image.id}`}
            initial={toDraft(image)}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              const result = await apiRequest(`/api/admin/images/${image.id}`, { method: "PATCH", body, labels: LABELS });
              if (!result.ok) return { message: result.error.message, fields: result.error.fields };
              setEditing(false);
              router.refresh();
              return null;
            }}
          />
        </div>
      ) : (
        <dl className="mt-3 grid grid-cols-[max-content_minmax(0,1fr)] gap-x-4 gap-y-2 text-sm sm:gap-x-6">
          <dt className="text-slate-500">Reference</dt>
          <dd className="break-all font-mono text-xs sm:text-sm">{image.ref}</dd>
          <dt className="text-slate-500">Start command</dt>
          <dd className="break-words font-mono text-xs">{image.command ?? <span className="font-sans text-slate-500">The image’s own command</span>}</dd>
          <dt className="text-slate-500">Port</dt>
          <dd className="tabular-nums">{image.port}</dd>
          <dt className="text-slate-500">CUDA</dt>
          <dd>{image.cudaVersion ? `Needs CUDA ${image.cudaVersion}` : "No requirement"}</dd>
          <dt className="text-slate-500">Idle stop</dt>
          <dd>{image.idleTimeoutMinutes === null ? "As in Host settings" : image.idleTimeoutMinutes === 0 ? "Never" : `After ${image.idleTimeoutMinutes} minutes idle`}</dd>
          <dt className="text-slate-500">In use by</dt>
          <dd>{image.workspaces === 0 ? "No workspaces" : `${image.workspaces} workspace${image.workspaces === 1 ? "" : "s"}`}</dd>
        </dl>
      )}
      <ConfirmDialog
        open={removing}
        title={`Remove “${image.name}” from the catalog?`}
        confirmLabel="Remove image"
        busyLabel="Removing…"
        busy={busy}
        error={removeError}
        onConfirm={remove}
        onClose={() => setRemoving(false)}
      >
        <p>Users can no longer launch it. The image stays on the Docker host; workspaces that use it must be deleted first.</p>
      </ConfirmDialog>
    </article>
  );
}

export function ImageList({ images }: { images: CatalogImageRow[] }) {
  if (images.length === 0) {
    return (
      <EmptyState title="The catalog is empty">
        <p className="mt-1 text-sm text-slate-600">Users can launch only images from the catalog. Add the first one below.</p>
      </EmptyState>
    );
  }
  return (
    <div className="grid gap-4 lg:grid-cols-2">
      {images.map((i) => <ImageCard key={i.id} image={i} />)}
    </div>
  );
}
