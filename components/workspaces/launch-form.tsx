"use client";

import { useEffect, useState } from "react";
import { apiRequest } from "../api-request";
import { LocalTime } from "../local-time";
import { formatNumber } from "../format";
import type { WorkspaceItem } from "./workspace-item";
import type { LaunchLimits } from "@/lib/quotas/launch-limits";

export type CatalogImage = { id: string; name: string; ref: string; cudaVersion: string | null; description: string };

const LABELS = { name: "Name", imageId: "Image", gpus: "GPUs", memoryGb: "Memory (GB)", cpus: "CPUs" };
type Field = keyof typeof LABELS;

const inputClass =
  "mt-1 block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm focus:border-brand-600 focus:outline-none focus:ring-2 focus:ring-brand-600/30 aria-[invalid=true]:border-red-500";

function hint(quotaLeft: number, hostLeft: number | null, unit: string): string {
  const q = `${formatNumber(quotaLeft)}${unit} left in your quota`;
  if (hostLeft === null) return q;
  return `${q}, ${formatNumber(hostLeft)}${unit} free on this host`;
}

/** Halves are the API's granularity for memory and CPUs; a sensible default never exceeds the limit. */
function defaultAmount(preferred: number, max: number, step: number): number {
  if (max <= 0) return step;
  return Math.max(step, Math.min(preferred, Math.floor(max / step) * step));
}

export function LaunchForm({ images, limits, onLaunched }: { images: CatalogImage[]; limits: LaunchLimits; onLaunched: (w: WorkspaceItem) => void }) {
  const [name, setName] = useState("");
  const [imageId, setImageId] = useState(images[0]?.id ?? "");
  const [gpus, setGpus] = useState(String(limits.gpus.max > 0 ? 1 : 0));
  const [memoryGb, setMemoryGb] = useState(String(defaultAmount(8, limits.memoryGb.max, 0.5)));
  const [cpus, setCpus] = useState(String(defaultAmount(2, limits.cpus.max, 0.5)));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<Set<Field>>(new Set());
  const selected = images.find((i) => i.id === imageId);

  // When what is left shrinks (a launch, another tab), lower values that no longer fit; never raise them.
  useEffect(() => {
    const fit = (max: number) => (value: string) => (Number(value) > max ? String(max) : value);
    setGpus(fit(limits.gpus.max));
    setMemoryGb(fit(Math.max(0.5, limits.memoryGb.max)));
    setCpus(fit(Math.max(0.5, limits.cpus.max)));
  }, [limits.gpus.max, limits.memoryGb.max, limits.cpus.max]);

  async function onSubmit(e: React.FormEvent<HTMLFormElement>) {
    e.preventDefault();
    setError(null);
    // Only shape is checked here; the server decides quota and capacity and says why in its own words.
    const numbers = { gpus: Number(gpus), memoryGb: Number(memoryGb), cpus: Number(cpus) };
    const bad = new Set<Field>();
    if (!name.trim()) bad.add("name");
    if (!imageId) bad.add("imageId");
    for (const key of ["gpus", "memoryGb", "cpus"] as const) {
      const raw = { gpus, memoryGb, cpus }[key];
      if (raw.trim() === "" || !Number.isFinite(numbers[key])) bad.add(key);
    }
    if (bad.size) {
      setInvalid(bad);
      setError(`Fill in ${[...bad].map((f) => LABELS[f]).join(", ")} with valid values.`);
      return;
    }
    setInvalid(new Set());
    setBusy(true);
    const result = await apiRequest<WorkspaceItem>("/api/workspaces", {
      method: "POST",
      body: { name: name.trim(), imageId, ...numbers },
      labels: LABELS,
    });
    setBusy(false);
    if (!result.ok) {
      setError(result.error.message);
      setInvalid(new Set(result.error.fields.filter((f): f is Field => f in LABELS)));
      return;
    }
    setName("");
    onLaunched(result.data);
  }

  if (images.length === 0) {
    return (
      <p className="rounded-md bg-slate-50 px-3 py-2 text-sm text-slate-600">
        The image catalog is empty, so there is nothing to launch yet. Ask an admin to add an image.
      </p>
    );
  }

  const describedBy = (f: Field, hintId?: string) => [hintId, invalid.has(f) ? "launch-error" : undefined].filter(Boolean).join(" ") || undefined;

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-describedby={limits.workspacesLeft <= 0 ? "launch-full" : undefined}>
      <div>
        <label htmlFor="launch-name" className="block text-sm font-medium">Name</label>
        <input id="launch-name" name="name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={64}
          autoComplete="off" placeholder="e.g. thesis-experiments" className={inputClass}
          aria-invalid={invalid.has("name")} aria-describedby={describedBy("name")} />
      </div>
      <div>
        <label htmlFor="launch-image" className="block text-sm font-medium">Image</label>
        <select id="launch-image" name="imageId" value={imageId} onChange={(e) => setImageId(e.target.value)} className={inputClass}
          aria-invalid={invalid.has("imageId")} aria-describedby={describedBy("imageId", "launch-image-hint")}>
          {images.map((i) => (
            <option key={i.id} value={i.id}>{i.name}</option>
          ))}
        </select>
        <p id="launch-image-hint" className="mt-1 break-all text-xs text-slate-500">
          {selected ? `${selected.ref}${selected.cudaVersion ? ` · needs CUDA ${selected.cudaVersion}` : ""}` : ""}
          {selected?.description ? <span className="block break-normal">{selected.description}</span> : null}
        </p>
      </div>
      <div className="grid grid-cols-3 gap-3">
        <div>
          <label htmlFor="launch-gpus" className="block text-sm font-medium">GPUs</label>
          <input id="launch-gpus" name="gpus" type="number" inputMode="numeric" min={0} max={limits.gpus.max} step={1}
            value={gpus} onChange={(e) => setGpus(e.target.value)} className={inputClass}
            aria-invalid={invalid.has("gpus")} aria-describedby={describedBy("gpus", "launch-gpus-hint")} />
        </div>
        <div>
          <label htmlFor="launch-memory" className="block text-sm font-medium">Memory (GB)</label>
          <input id="launch-memory" name="memoryGb" type="number" inputMode="decimal" min={0.5} max={limits.memoryGb.max} step={0.5}
            value={memoryGb} onChange={(e) => setMemoryGb(e.target.value)} className={inputClass}
            aria-invalid={invalid.has("memoryGb")} aria-describedby={describedBy("memoryGb", "launch-memory-hint")} />
        </div>
        <div>
          <label htmlFor="launch-cpus" className="block text-sm font-medium">CPUs</label>
          <input id="launch-cpus" name="cpus" type="number" inputMode="decimal" min={0.5} max={limits.cpus.max} step={0.5}
            value={cpus} onChange={(e) => setCpus(e.target.value)} className={inputClass}
            aria-invalid={invalid.has("cpus")} aria-describedby={describedBy("cpus", "launch-cpus-hint")} />
        </div>
      </div>
      <ul className="space-y-0.5 text-xs text-slate-500">
        <li id="launch-gpus-hint">GPUs: up to {limits.gpus.max} ({hint(limits.gpus.quotaLeft, limits.gpus.hostFree, "")})</li>
        <li id="launch-memory-hint">Memory: up to {formatNumber(limits.memoryGb.max)} GB ({hint(limits.memoryGb.quotaLeft, limits.memoryGb.hostLeft, " GB")})</li>
        <li id="launch-cpus-hint">CPUs: up to {formatNumber(limits.cpus.max)} ({hint(limits.cpus.quotaLeft, limits.cpus.hostLeft, "")})</li>
        {limits.budget && (
          <li id="launch-budget-hint">
            GPU-hours: {formatNumber(Math.floor(limits.budget.left * 100) / 100)} of {formatNumber(limits.budget.budget)} left this {limits.budget.period}
            {limits.budget.left <= 0 && <> (used up; GPUs again from <LocalTime value={limits.budget.resetsAt} />)</>}
          </li>
        )}
      </ul>
      {limits.workspacesLeft <= 0 && (
        <p id="launch-full" className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800">
          You have as many workspaces as your quota allows. Delete one before launching another.
        </p>
      )}
      {error && (
        <p id="launch-error" role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p>
      )}
      <button type="submit" disabled={busy}
        className="w-full rounded-md bg-brand-600 px-4 py-2 text-sm font-medium text-white hover:bg-brand-700 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:opacity-60">
        {busy ? "Launching…" : "Launch"}
      </button>
    </form>
  );
}
