// The browser terminal's wire format, shared by the server (lib/terminal/terminal-server.ts) and the client
// (components/terminal/terminal-view.tsx). Binary frames carry the terminal's bytes both ways; text frames carry
// JSON control messages, of which there is one kind: {"type":"resize","cols":N,"rows":N}. Anything else is refused.

export const TERMINAL_PATH = /^\/api\/workspaces\/([A-Za-z0-9_-]{1,64})\/terminal$/;

/** One frame from the browser: a paste of this size is plenty; the socket is closed (1009) above it. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** A control message is a few dozen bytes. */
export const MAX_CONTROL_BYTES = 256;
export const MAX_COLS = 1000;
export const MAX_ROWS = 500;
export const DEFAULT_SIZE = { cols: 80, rows: 24 };

export type TerminalSize = { cols: number; rows: number };

/** Close codes (4000-4999 are the application's). The client reconnects only after the network-ish ones. */
export const CLOSE = {
  shellExited: 4000,
  sessionEnded: 4001,
  accessEnded: 4003,
  workspaceStopped: 4004,
  tooMany: 4029,
  protocol: 1008,
  tooBig: 1009,
  serverError: 1011,
  serverRestart: 1012,
} as const;

/** Codes after which the same terminal may be worth opening again: the connection broke, not the permission. */
export function shouldReconnect(code: number): boolean {
  return code === 1001 || code === 1005 || code === 1006 || code === CLOSE.serverError || code === CLOSE.serverRestart || code === 1013;
}

function dimension(value: unknown, max: number): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= max ? value : null;
}

/** A size from two values (query parameters or a control message); null unless both are whole numbers in range. */
export function parseSize(cols: unknown, rows: unknown): TerminalSize | null {
  const toNumber = (v: unknown) => (typeof v === "string" && /^[0-9]{1,4}$/.test(v) ? Number(v) : v);
  const c = dimension(toNumber(cols), MAX_COLS);
  const r = dimension(toNumber(rows), MAX_ROWS);
  return c !== null && r !== null ? { cols: c, rows: r } : null;
}

export type ControlMessage = { type: "resize"; cols: number; rows: number };

/** A text frame's control message, or null when it is not exactly one we know (the socket is then closed). */
export function parseControl(text: string): ControlMessage | null {
  if (text.length > MAX_CONTROL_BYTES) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return null;
  const { type, cols, rows, ...rest } = value as Record<string, unknown>;
  if (type !== "resize" || Object.keys(rest).length > 0) return null;
  const size = parseSize(cols, rows);
  return size && typeof cols === "number" && typeof rows === "number" ? { type, ...size } : null;
}
