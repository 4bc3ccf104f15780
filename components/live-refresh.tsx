"use client";

import { useEffect, useRef } from "react";
import { useRouter } from "next/navigation";
import { useWorkspaceEvents } from "./workspaces/use-workspace-events";

/** Re-reads a server-rendered page when any workspace changes (admins receive every user's events). */
export function LiveRefresh() {
  const router = useRouter();
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const soon = () => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => router.refresh(), 500);
  };
  useEffect(() => () => clearTimeout(timer.current), []);
  useWorkspaceEvents({ onWorkspace: soon, onDeleted: soon, onResync: soon });
  return null;
}
