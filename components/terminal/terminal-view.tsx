"use client";

import { useEffect, useRef, useState } from "react";
import type { Terminal } from "@xterm/xterm";
import { shouldReconnect } from "@/lib/terminal/terminal-protocol";

// The browser half of the terminal (lib/terminal/terminal-protocol.ts has the wire format). xterm.js is loaded
// only here, on first render. A reconnect after a network blip opens a new shell: the old one is hung up by the
// server when its socket goes, so nothing keeps running unseen (use tmux or nohup for long jobs).

type State = { kind: "connecting" | "open" | "reconnecting" | "closed"; message?: string };

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000];
const MAX_ATTEMPTS = 8;

function copyText(text: string): void {
  if (navigator.clipboard?.writeText) {
    void navigator.clipboard.writeText(text).catch(() => legacyCopy(text));
  } else legacyCopy(text);
}

// Plain http on a name other than localhost has no Clipboard API: copy through a selected textarea instead.
function legacyCopy(text: string): void {
  const area = document.createElement("textarea");
  area.value = text;
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  try {
    document.execCommand("copy");
  } finally {
    area.remove();
  }
}

export function TerminalView({ workspaceId }: { workspaceId: string }) {
  const container = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<State>({ kind: "connecting" });
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let disposed = false;
    let term: Terminal | null = null;
    let socket: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | null = null;
    let observer: ResizeObserver | null = null;
    let attempts = 0;
    const encoder = new TextEncoder();

    (async () => {
      const [{ Terminal }, { FitAddon }] = await Promise.all([import("@xterm/xterm"), import("@xterm/addon-fit")]);
      if (disposed || !container.current) return;
      term = new Terminal({ cursorBlink: true, fontSize: 14, scrollback: 5000, theme: { background: "#020617" } });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(container.current);
      fit.fit();
      term.focus();
      const t = term;

      t.attachCustomKeyEventHandler((e) => {
        if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
        if (e.code === "KeyC") {
          if (t.hasSelection()) copyText(t.getSelection());
          return false;
        }
        if (e.code === "KeyV") {
          // Without the Clipboard API (plain http) the browser's own paste (Ctrl+V, the context menu) still works.
          if (navigator.clipboard?.readText) {
            e.preventDefault();
            void navigator.clipboard.readText().then((text) => t.paste(text)).catch(() => {});
          }
          return false;
        }
        return true;
      });

      const send = (data: string | Uint8Array) => {
        if (socket?.readyState === WebSocket.OPEN) socket.send(data);
      };
      t.onData((d) => send(encoder.encode(d)));
      t.onBinary((d) => send(Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff)));
      t.onResize(({ cols, rows }) => send(JSON.stringify({ type: "resize", cols, rows })));
      observer = new ResizeObserver(() => fit.fit());
      observer.observe(container.current);

      const connect = () => {
        if (disposed) return;
        const proto = location.protocol === "https:" ? "wss:" : "ws:";
        const ws = new WebSocket(`${proto}//${location.host}/api/workspaces/${encodeURIComponent(workspaceId)}/terminal?cols=${t.cols}&rows=${t.rows}`);
        ws.binaryType = "arraybuffer";
        socket = ws;
        let opened = false;
        ws.onopen = () => {
          opened = true;
          attempts = 0;
          setState({ kind: "open" });
          // The size may have changed while connecting.
          send(JSON.stringify({ type: "resize", cols: t.cols, rows: t.rows }));
        };
        ws.onmessage = (ev) => {
          if (ev.data instanceof ArrayBuffer) t.write(new Uint8Array(ev.data));
        };
        ws.onclose = (ev) => {
          if (disposed || socket !== ws) return;
          socket = null;
          if (shouldReconnect(ev.code) && attempts < MAX_ATTEMPTS) {
            const delay = BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length - 1)];
            attempts++;
            if (opened) t.write("\r\n\x1b[33m[Connection lost. Reconnecting… a new shell will start.]\x1b[0m\r\n");
            setState({ kind: "reconnecting", message: ev.reason || undefined });
            retry = setTimeout(connect, delay);
            return;
          }
          const reason = ev.reason || (opened ? "Disconnected" : "Could not connect: the workspace may be stopped, or you may need to sign in again");
          t.write(`\r\n\x1b[31m[${reason}]\x1b[0m\r\n`);
          setState({ kind: "closed", message: reason });
        };
      };
      connect();
    })();

    return () => {
      disposed = true;
      if (retry) clearTimeout(retry);
      observer?.disconnect();
      socket?.close(1000);
      term?.dispose();
    };
  }, [workspaceId, generation]);

  return (
    <div className="flex min-h-0 flex-1 flex-col">
      <div className="flex items-center gap-3 px-4 py-1.5 text-xs">
        <p role="status" className={state.kind === "closed" ? "text-red-300" : state.kind === "open" ? "text-emerald-300" : "text-amber-300"}>
          {state.kind === "connecting" && "Connecting…"}
          {state.kind === "open" && "Connected"}
          {state.kind === "reconnecting" && "Reconnecting… (a new shell will start)"}
          {state.kind === "closed" && `Disconnected: ${state.message}`}
        </p>
        {state.kind === "closed" && (
          <button type="button" onClick={() => (setState({ kind: "connecting" }), setGeneration((g) => g + 1))}
            className="rounded border border-slate-600 px-2 py-0.5 text-slate-100 hover:bg-slate-800">
            Start a new shell
          </button>
        )}
      </div>
      <div ref={container} data-testid="terminal" className="min-h-0 flex-1 px-2 pb-2" />
    </div>
  );
}
