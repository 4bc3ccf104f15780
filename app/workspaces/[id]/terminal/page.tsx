import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import "@xterm/xterm/css/xterm.css";
import { TerminalView } from "@/components/terminal/terminal-view";
import { requirePageUser } from "@/lib/auth/page-guard";
import { db } from "@/lib/db/client";
import { proxyAccess } from "@/lib/proxy/proxy-access";

export const dynamic = "force-dynamic";
export const metadata: Metadata = { title: "Terminal" };

// The page only frames the terminal: who may use it is decided again by the WebSocket's own upgrade
// (lib/terminal/terminal-server.ts); here a workspace the user may not reach simply does not exist.
export default async function TerminalPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const user = await requirePageUser(`/workspaces/${encodeURIComponent(id)}/terminal`);
  const access = await proxyAccess(id, user.id);
  if (!access) notFound();
  const ws = await db().workspace.findUnique({ where: { id }, select: { name: true } });
  if (!ws) notFound();
  return (
    <div className="flex h-screen flex-col bg-slate-950 text-slate-100">
      <header className="flex flex-wrap items-center gap-x-4 gap-y-1 border-b border-slate-800 px-4 py-2 text-sm">
        <Link href="/" className="font-semibold text-slate-100 hover:underline">Gantry</Link>
        <h1 className="truncate font-medium">Terminal · {ws.name}</h1>
        <p className="text-xs text-slate-400">
          Copy: select, then Ctrl+Shift+C (⌘C on a Mac) · Paste: Ctrl+Shift+V or Ctrl+V (⌘V)
        </p>
      </header>
      <TerminalView workspaceId={id} />
    </div>
  );
}
