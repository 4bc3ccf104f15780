// A terminal client for tests and the bench: the `ws` package (a real WebSocket client) speaking the browser
// terminal's protocol (lib/terminal/terminal-protocol.ts): keystrokes as binary frames, resizes as JSON text.
import WebSocket from "ws";

export type TerminalRefused = { ok: false; status: number; body: string };

export type TerminalOpen = {
  ok: true;
  ws: WebSocket;
  /** Everything the terminal printed so far (decoded as UTF-8). */
  output(): string;
  type(text: string): void;
  resize(cols: number, rows: number): void;
  /** Resolves with the output once `pattern` appears in what arrived after `from` (default: from the start). */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** Resolves with the close code and reason, and when it came (performance.now()). */
  closed: Promise<{ code: number; reason: string; at: number }>;
  close(): void;
};

export function terminalUrl(dashboardUrl: string, workspaceId: string, size?: { cols: number; rows: number }): string {
  const query = size ? `?cols=${size.cols}&rows=${size.rows}` : "";
  return `${dashboardUrl.replace(/^http/, "ws")}/api/workspaces/${workspaceId}/terminal${query}`;
}

export function openTerminal(url: string, headers: Record<string, string>, timeoutMs = 30_000): Promise<TerminalRefused | TerminalOpen> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, perMessageDeflate: false });
    let out = "";
    const waiters = new Set<() => void>();
    let closedInfo: { code: number; reason: string; at: number } | null = null;
    const closed = new Promise<{ code: number; reason: string; at: number }>((r) => {
      ws.on("close", (code, reason) => {
        closedInfo = { code, reason: reason.toString("utf8"), at: performance.now() };
        r(closedInfo);
        for (const w of waiters) w();
      });
    });
    ws.on("message", (data: Buffer, isBinary) => {
      if (isBinary) out += data.toString("utf8");
      for (const w of waiters) w();
    });
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => (body += s));
      res.on("end", () => resolve({ ok: false, status: res.statusCode ?? 0, body }));
    });
    ws.on("error", (e) => {
      if (ws.readyState !== WebSocket.OPEN && !closedInfo) reject(e);
    });
    ws.on("open", () =>
      resolve({
        ok: true,
        ws,
        output: () => out,
        type: (text) => ws.send(Buffer.from(text, "utf8"), { binary: true }),
        resize: (cols, rows) => ws.send(JSON.stringify({ type: "resize", cols, rows })),
        waitFor(pattern, wait = 15_000, from = 0) {
          return new Promise((res, rej) => {
            const check = () => {
              if (pattern.test(out.slice(from))) {
                done();
                res(out);
              } else if (closedInfo) {
                done();
                rej(new Error(`terminal closed (${closedInfo.code} ${closedInfo.reason}) before ${pattern}; output: ${JSON.stringify(out.slice(-1500))}`));
              }
            };
            const timer = setTimeout(() => {
              done();
              rej(new Error(`no ${pattern} within ${wait} ms; output: ${JSON.stringify(out.slice(-1500))}`));
            }, wait);
            const done = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        },
        closed,
        close: () => ws.close(1000),
      }),
    );
  });
}
