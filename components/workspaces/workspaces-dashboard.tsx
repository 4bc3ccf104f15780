"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { useRouter } from "next/navigation";
import { statusRule } from "@/lib/workspaces/lifecycle";
import { LaunchForm, type CatalogImage } from "./launch-form";
import type { LaunchLimits } from "@/lib/quotas/launch-limits";
import { WorkspaceCard } from "./workspace-card";
import { useWorkspaceEvents } from "./use-workspace-events";
import { newer, type GpuLive, type PullProgress, type WorkspaceItem } from "./workspace-item";
import { EmptyState } from "../data-table";

type Props = {
  userId: string;
  workspaces: WorkspaceItem[];
  images: CatalogImage[];
  limits: LaunchLimits;
  /** Server-rendered quota bars (they follow the page's data, re-read after every change). */
  quotaPanel: React.ReactNode;
};

/** Merges fresh server data with what events already told us, keeping the newer version of each workspace. */
function mergeFromServer(server: WorkspaceItem[], current: WorkspaceItem[], deleted: Set<string>): WorkspaceItem[] {
  const byId = new Map(current.map((w) => [w.id, w]));
  return server.filter((w) => !deleted.has(w.id)).map((w) => (byId.has(w.id) ? newer(byId.get(w.id)!, w) : w));
}

export function WorkspacesDashboard({ userId, workspaces: fromServer, images, limits, quotaPanel }: Props) {
  const router = useRouter();
  const [workspaces, setWorkspaces] = useState(fromServer);
  const [pulls, setPulls] = useState<Record<string, PullProgress>>({});
  const [telemetry, setTelemetry] = useState<Record<string, GpuLive[]>>({});
  const deleted = useRef(new Set<string>());
  const refreshTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  // A router.refresh() re-renders the server component: new quota bars, new launch limits, and this list again.
  useEffect(() => {
    setWorkspaces((current) => mergeFromServer(fromServer, current, deleted.current));
  }, [fromServer]);

  const refreshSoon = useCallback(() => {
    clearTimeout(refreshTimer.current);
    refreshTimer.current = setTimeout(() => router.refresh(), 300);
  }, [router]);
  useEffect(() => () => clearTimeout(refreshTimer.current), []);

  const upsert = useCallback(
    (w: WorkspaceItem) => {
      if (w.userId !== userId || deleted.current.has(w.id)) return;
      setWorkspaces((current) => {
        const i = current.findIndex((x) => x.id === w.id);
        if (i === -1) return [...current, w];
        const next = [...current];
        next[i] = newer(current[i], w);
        return next;
      });
      if (w.status !== "pulling") {
        setPulls((p) => {
          if (!(w.id in p)) return p;
          const { [w.id]: _done, ...rest } = p;
          return rest;
        });
      }
      refreshSoon();
    },
    [userId, refreshSoon],
  );

  const remove = useCallback(
    (id: string) => {
      deleted.current.add(id);
      setWorkspaces((current) => current.filter((w) => w.id !== id));
      refreshSoon();
    },
    [refreshSoon],
  );

  // A safety net for missed events: while a workspace is between states, re-read the page every few seconds.
  const transitional = workspaces.some((w) => statusRule(w.status).transitional);
  useEffect(() => {
    if (!transitional) return;
    const timer = setInterval(() => router.refresh(), 5000);
    return () => clearInterval(timer);
  }, [transitional, router]);

  const live = useWorkspaceEvents({
    onWorkspace: upsert,
    onDeleted: (id) => {
      if (workspaces.some((w) => w.id === id)) remove(id);
    },
    onPullProgress: (id, progress) => setPulls((p) => ({ ...p, [id]: progress })),
    onGpuTelemetry: (id, gpus) => setTelemetry((t) => ({ ...t, [id]: gpus })),
    onResync: () => router.refresh(),
  });

  return (
    <div className="grid gap-6 lg:grid-cols-[minmax(0,1fr)_22rem]">
      <div className="min-w-0">
        <div className="mb-4 flex flex-wrap items-center justify-between gap-2">
          <h1 className="text-2xl font-semibold">My workspaces</h1>
          <span className="inline-flex items-center gap-1.5 text-xs text-slate-500">
            <span aria-hidden="true" className={`h-2 w-2 rounded-full ${live === "live" ? "bg-emerald-500" : live === "offline" ? "bg-red-500" : "bg-amber-400"}`} />
            {live === "live" ? "Live updates on" : live === "offline" ? "Live updates paused — retrying" : "Connecting for live updates…"}
          </span>
        </div>
        {workspaces.length === 0 ? (
          <EmptyState title="No workspaces yet">
            <p className="mt-1 text-sm text-slate-600">Launch one with the form; it starts with your files from /workspace.</p>
          </EmptyState>
        ) : (
          <div className="space-y-4">
            {workspaces.map((w) => (
              <WorkspaceCard key={w.id} workspace={w} pull={pulls[w.id]} gpuLive={telemetry[w.id]} onChanged={upsert} onDeleted={remove} />
            ))}
          </div>
        )}
      </div>
      <aside className="space-y-6" aria-label="Quota and launch">
        {quotaPanel}
        <section aria-labelledby="launch-heading" className="rounded-xl border border-slate-200 bg-white p-4 shadow-sm sm:p-5">
          <h2 id="launch-heading" className="mb-4 text-lg font-semibold">Launch a workspace</h2>
          <LaunchForm images={images} limits={limits} onLaunched={upsert} />
        </section>
      </aside>
    </div>
  );
}
