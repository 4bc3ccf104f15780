"use client";

import { useState } from "react";
import { apiRequest } from "../api-request";
import { ConfirmDialog } from "../confirm-dialog";
import { formatBytes, formatMib, formatNumber, shortUuid } from "../format";
import { LocalTime } from "../local-time";
import { StatusBadge } from "../status-badge";
import { SshAccess } from "./ssh-access";
import { IdleBanner } from "./idle-banner";
import { allowedActions, type GpuLive, type PullProgress, type WorkspaceItem } from "./workspace-item";

type Action = "stop" | "start" | "reset" | "delete";

const BUSY_TEXT: Record<Action, string> = { stop: "Stopping…", start: "Starting…", reset: "Resetting…", delete: "Deleting…" };

const buttonBase =
  "inline-flex items-center justify-center rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-brand-600 disabled:cursor-not-allowed disabled:opacity-50";
const secondary = `${buttonBase} border border-slate-300 bg-white text-slate-800 hover:bg-slate-50`;
const danger = `${buttonBase} border border-red-200 bg-white text-red-700 hover:bg-red-50`;

export function WorkspaceCard({
  workspace,
  pull,
  gpuLive,
  onChanged,
  onDeleted,
}: {
  workspace: WorkspaceItem;
  pull?: PullProgress;
  /** The latest telemetry of the GPUs it holds, when the sampler sends any. */
  gpuLive?: GpuLive[];
  onChanged: (w: WorkspaceItem) => void;
  onDeleted: (id: string) => void;
}) {
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<"reset" | "delete" | null>(null);
  const w = workspace;
  const can = allowedActions(w.status);
  const headingId = `ws-${w.id}-name`;

  async function run(action: Action) {
    // The dialog closes at once; progress shows on the card's own button and status badge (live).
    setConfirm(null);
    setBusy(action);
    setError(null);
    const path = action === "delete" ? `/api/workspaces/${w.id}` : `/api/workspaces/${w.id}/${action}`;
    const result = await apiRequest<WorkspaceItem | null>(path, { method: action === "delete" ? "DELETE" : "POST" });
    setBusy(null);
    if (!result.ok) {
      setError(result.error.message);
      return;
    }
    if (action === "delete") onDeleted(w.id);
    else if (result.data) onChanged(result.data);
  }

  const pulling = w.status === "pulling";
  const percent = pull && pull.bytesTotal > 0 ? Math.min(100, Math.round((pull.bytesDone / pull.bytesTotal) * 100)) : null;

  return (
    <section aria-labelledby={headingId} className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5">
      <div className="flex flex-wrap items-start justify-between gap-2">
        <div className="min-w-0">
          <h2 id={headingId} className="truncate text-lg font-semibold">{w.name}</h2>
          <p className="truncate text-sm text-slate-600" title={w.imageRef}>
            {w.image.name} <span className="text-slate-400">·</span> <code className="text-xs">{w.imageRef}</code>
          </p>
        </div>
        <StatusBadge status={w.status} />
      </div>

      {w.idle && w.status === "running" && <IdleBanner workspace={w} onChanged={onChanged} />}

      {w.statusMessage && !pulling && (
        <p className={`mt-3 rounded-md px-3 py-2 text-sm ${w.status === "error" ? "bg-red-50 text-red-800" : "bg-slate-50 text-slate-700"}`}>
          {w.statusMessage}
        </p>
      )}

      {pulling && (
        <div className="mt-3">
          <p className="mb-1 text-sm text-slate-700">Pulling <code className="text-xs">{pull?.image ?? w.imageRef}</code> before the first start…</p>
          <div
            role="progressbar"
            aria-label={`Pulling ${pull?.image ?? w.imageRef}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent ?? undefined}
            aria-valuetext={pull ? `${formatBytes(pull.bytesDone)} of ${formatBytes(pull.bytesTotal)}` : "Waiting for the download to start"}
            className="h-2 overflow-hidden rounded-full bg-slate-200"
          >
            <div
              className={`h-full rounded-full bg-sky-500 transition-[width] ${percent === null ? "w-1/3 animate-pulse" : ""}`}
              style={percent === null ? undefined : { width: `${percent}%` }}
            />
          </div>
          <p className="mt-1 text-xs tabular-nums text-slate-600">
            {pull
              ? `${formatBytes(pull.bytesDone)} of ${formatBytes(pull.bytesTotal)} · ${pull.layersDone} of ${pull.layersTotal} layers`
              : "Waiting for the download to start…"}
          </p>
        </div>
      )}

      <dl className="mt-4 grid grid-cols-2 gap-x-4 gap-y-3 text-sm sm:grid-cols-3 lg:grid-cols-5">
        <div className="col-span-2 sm:col-span-1">
          <dt className="text-slate-500">GPUs</dt>
          <dd className="font-medium">
            {w.gpuDevices.length > 0 ? (
              <ul>
                {w.gpuDevices.map((g) => {
                  const live = w.status === "running" ? gpuLive?.find((l) => l.uuid === g.uuid) : undefined;
                  return (
                    <li key={g.uuid} title={g.uuid}>
                      #{g.index} <span className="font-mono text-xs text-slate-600">{shortUuid(g.uuid)}</span>
                      {live && <GpuLiveLine live={live} />}
                    </li>
                  );
                })}
              </ul>
            ) : w.gpus > 0 ? (
              `${w.gpus} (not held while ${w.status})`
            ) : (
              "None"
            )}
          </dd>
        </div>
        <div>
          <dt className="text-slate-500">Memory</dt>
          <dd className="font-medium tabular-nums">{formatNumber(w.memoryGb)} GB</dd>
        </div>
        <div>
          <dt className="text-slate-500">CPUs</dt>
          <dd className="font-medium tabular-nums">{formatNumber(w.cpus)}</dd>
        </div>
        <div>
          <dt className="text-slate-500">{w.status === "running" ? "Started" : "Last started"}</dt>
          <dd className="font-medium"><LocalTime value={w.startedAt} empty="Not yet" /></dd>
        </div>
        <div>
          <dt className="text-slate-500">Last activity</dt>
          <dd className="font-medium"><LocalTime value={w.lastActivityAt} relative empty="None yet" /></dd>
        </div>
      </dl>

      <div className="mt-4 flex flex-wrap gap-2">
        {can.open ? (
          <a href={w.url} target="_blank" rel="noopener noreferrer" title="Opens in a new tab"
            className={`${buttonBase} bg-brand-600 text-white hover:bg-brand-700`}>
            Open
            <svg aria-hidden="true" viewBox="0 0 20 20" className="ml-1 h-3.5 w-3.5" fill="currentColor">
              <path d="M11 3h6v6h-2V6.41l-6.29 6.3-1.42-1.42L13.59 5H11V3ZM5 5h4v2H5v8h8v-4h2v4a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V7a2 2 0 0 1 2-2Z" />
            </svg>
          </a>
        ) : (
          <a role="link" aria-disabled="true" className={`${buttonBase} cursor-not-allowed bg-brand-600 text-white opacity-50`}
            title="The workspace opens once it is running">
            Open
          </a>
        )}
        {can.open && (
          <a href={`/workspaces/${w.id}/terminal`} target="_blank" rel="noopener" title="A shell in the workspace, in a new tab" className={secondary}>
            Terminal
          </a>
        )}
        {can.start ? (
          <button type="button" className={secondary} disabled={busy !== null} onClick={() => run("start")}>
            {busy === "start" ? BUSY_TEXT.start : "Start"}
          </button>
        ) : (
          <button type="button" className={secondary} disabled={busy !== null || !can.stop} onClick={() => run("stop")}>
            {busy === "stop" ? BUSY_TEXT.stop : "Stop"}
          </button>
        )}
        <button type="button" className={secondary} disabled={busy !== null || !can.reset}
          onClick={() => setConfirm("reset")}>
          {busy === "reset" ? BUSY_TEXT.reset : "Reset environment"}
        </button>
        <button type="button" className={danger} disabled={busy !== null || !can.remove}
          onClick={() => setConfirm("delete")}>
          {busy === "delete" ? BUSY_TEXT.delete : "Delete"}
        </button>
      </div>

      {error && (
        <p role="alert" className="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-700">{error}</p>
      )}

      <SshAccess workspace={w} />

      <ConfirmDialog
        open={confirm === "reset"}
        title={`Reset the environment of “${w.name}”?`}
        confirmLabel="Reset environment"
        tone="primary"
        onConfirm={() => run("reset")}
        onClose={() => setConfirm(null)}
      >
        <p>The workspace gets a fresh container made from its image, and starts again.</p>
        <p><strong className="font-semibold text-emerald-700">Kept:</strong> everything in <code>/workspace</code> — your notebooks, data and code there.</p>
        <p><strong className="font-semibold text-red-700">Lost:</strong> everything else — packages you installed (pip, apt, conda), and files outside <code>/workspace</code>. Running notebooks and terminals stop.</p>
      </ConfirmDialog>

      <ConfirmDialog
        open={confirm === "delete"}
        title={`Delete the workspace “${w.name}”?`}
        confirmLabel="Delete workspace"
        onConfirm={() => run("delete")}
        onClose={() => setConfirm(null)}
      >
        <p>The workspace and its container are removed, and its GPUs are handed back.</p>
        <p><strong className="font-semibold text-emerald-700">Kept:</strong> everything in <code>/workspace</code> — it stays in your personal volume and appears in your other and future workspaces.</p>
        <p><strong className="font-semibold text-red-700">Lost:</strong> everything else — packages you installed and files outside <code>/workspace</code>. This cannot be undone.</p>
      </ConfirmDialog>
    </section>
  );
}

/** A GPU's utilisation and memory as a small bar and figures, updated live. */
function GpuLiveLine({ live }: { live: GpuLive }) {
  const util = live.utilizationPercent;
  const mem = live.memoryUsedMb !== null && live.memoryTotalMb ? `${formatMib(live.memoryUsedMb)} / ${formatMib(live.memoryTotalMb)}` : null;
  return (
    <span className="mt-0.5 block text-xs font-normal text-slate-600" data-testid={`gpu-live-${live.uuid}`}>
      <span className="mr-1 inline-block h-1.5 w-12 overflow-hidden rounded-full bg-slate-200 align-middle" aria-hidden="true">
        <span className="block h-full bg-brand-600" style={{ width: `${util ?? 0}%` }} />
      </span>
      <span className="tabular-nums" data-testid="gpu-utilization">{util === null ? "—" : `${Math.round(util)}%`}</span>
      {mem && <> · <span className="tabular-nums" data-testid="gpu-memory">{mem}</span></>}
    </span>
  );
}
