"use client";

import { useEffect, useRef, useState } from "react";
import type { GpuLive, PullProgress, WorkspaceItem } from "./workspace-item";

export type WorkspaceEventHandlers = {
  onWorkspace?: (workspace: WorkspaceItem) => void;
  onDeleted?: (workspaceId: string) => void;
  onPullProgress?: (workspaceId: string, progress: PullProgress) => void;
  onGpuTelemetry?: (workspaceId: string, gpus: GpuLive[]) => void;
  /** A reconnect after a drop: events may have been missed, so re-read the page's data. */
  onResync?: () => void;
};

export type LiveState = "connecting" | "live" | "offline";

/**
 * Subscribes to GET /api/events (server-sent events) for as long as the component is mounted. The browser
 * reconnects on its own after a network drop; when the server refuses the stream outright (a session that
 * ended, a restart), it is retried every few seconds.
 */
export function useWorkspaceEvents(handlers: WorkspaceEventHandlers): LiveState {
  const ref = useRef(handlers);
  ref.current = handlers;
  const [state, setState] = useState<LiveState>("connecting");

  useEffect(() => {
    let source: EventSource | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let connectedBefore = false;
    let closed = false;

    const parse = (e: Event): Record<string, unknown> | null => {
      try {
        return JSON.parse((e as MessageEvent<string>).data) as Record<string, unknown>;
      } catch {
        return null;
      }
    };

    const connect = () => {
      source = new EventSource("/api/events");
      source.addEventListener("hello", () => {
        setState("live");
        if (connectedBefore) ref.current.onResync?.();
        connectedBefore = true;
      });
      source.addEventListener("workspace", (e) => {
        const data = parse(e);
        if (data?.workspace) ref.current.onWorkspace?.(data.workspace as WorkspaceItem);
      });
      source.addEventListener("workspace-deleted", (e) => {
        const data = parse(e);
        if (typeof data?.workspaceId === "string") ref.current.onDeleted?.(data.workspaceId);
      });
      source.addEventListener("pull-progress", (e) => {
        const data = parse(e);
        if (typeof data?.workspaceId === "string") ref.current.onPullProgress?.(data.workspaceId, data as unknown as PullProgress);
      });
      source.addEventListener("gpu-telemetry", (e) => {
        const data = parse(e);
        if (typeof data?.workspaceId === "string" && Array.isArray(data.gpus)) ref.current.onGpuTelemetry?.(data.workspaceId, data.gpus as GpuLive[]);
      });
      source.onerror = () => {
        if (!source || closed) return;
        if (source.readyState === EventSource.CLOSED) {
          setState("offline");
          source = null;
          retry = setTimeout(connect, 5000);
        } else {
          setState("connecting");
        }
      };
    };

    connect();
    return () => {
      closed = true;
      clearTimeout(retry);
      source?.close();
    };
  }, []);

  return state;
}
