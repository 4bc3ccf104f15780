// A minimal RFC 6455 WebSocket client over node:http, for tests that must set Origin and Cookie on the upgrade
// and see exactly how a refused upgrade is answered. Node 20 has no WebSocket client of its own and the `ws`
// package is not a dependency; this covers what the proxy tests need: the handshake, text frames (masked, as a
// client must send them), fragmentation, ping/pong and close. No extensions (no permessage-deflate) are offered.
import crypto from "node:crypto";
import http from "node:http";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export type WsMessage = { opcode: number; data: Buffer; text: string };

export type WsRefused = {
  ok: false;
  /** The HTTP status of the refusal, or 0 when the server closed the connection without answering. */
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  error?: string;
};

export type WsOpen = {
  ok: true;
  status: 101;
  headers: http.IncomingHttpHeaders;
  messages: WsMessage[];
  /** Everything received as text (frames decoded as UTF-8), for searching for secrets. */
  received(): string;
  sendText(text: string): void;
  /** Resolves with the first message (already received or still to come) that satisfies `pred`. */
  waitFor(what: string, pred: (m: WsMessage) => boolean, timeoutMs?: number): Promise<WsMessage>;
  close(): void;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
};

export type WsResult = WsRefused | WsOpen;

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = crypto.randomBytes(4);
  const len = payload.length;
  let header: Buffer;
  if (len < 126) {
    header = Buffer.from([0x80 | opcode, 0x80 | len]);
  } else if (len < 65536) {
    header = Buffer.alloc(4);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(len, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = 0x80 | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(len), 2);
  }
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = payload[i] ^ mask[i % 4];
  return Buffer.concat([header, mask, masked]);
}

function connection(socket: Duplex, head: Buffer, headers: http.IncomingHttpHeaders): WsOpen {
  const messages: WsMessage[] = [];
  const waiters = new Set<() => void>();
  let all = "";
  let buffer = head.length ? Buffer.from(head) : Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let fragmentOpcode = 0;
  let isClosed = false;
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  const markClosed = () => {
    if (isClosed) return;
    isClosed = true;
    resolveClosed();
    for (const w of waiters) w();
  };

  const deliver = (opcode: number, data: Buffer) => {
    const text = data.toString("utf8");
    all += text + "\n";
    messages.push({ opcode, data, text });
    for (const w of waiters) w();
  };

  const parse = () => {
    for (;;) {
      if (buffer.length < 2) return;
      const fin = (buffer[0] & 0x80) !== 0;
      const opcode = buffer[0] & 0x0f;
      const masked = (buffer[1] & 0x80) !== 0;
      let len = buffer[1] & 0x7f;
      let offset = 2;
      if (len === 126) {
        if (buffer.length < 4) return;
        len = buffer.readUInt16BE(2);
        offset = 4;
      } else if (len === 127) {
        if (buffer.length < 10) return;
        len = Number(buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const maskKey = masked ? buffer.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (buffer.length < offset + len) return;
      let payload = Buffer.from(buffer.subarray(offset, offset + len));
      buffer = buffer.subarray(offset + len);
      if (maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= maskKey[i % 4];

      if (opcode === 0x8) {
        if (!isClosed) socket.write(frame(0x8, payload.subarray(0, 2)));
        socket.end();
        markClosed();
        return;
      }
      if (opcode === 0x9) {
        socket.write(frame(0xa, payload));
        continue;
      }
      if (opcode === 0xa) continue;
      if (opcode === 0x0) {
        fragments.push(payload);
        if (fin) {
          payload = Buffer.concat(fragments);
          fragments = [];
          deliver(fragmentOpcode, payload);
        }
        continue;
      }
      if (!fin) {
        fragmentOpcode = opcode;
        fragments = [payload];
        continue;
      }
      deliver(opcode, payload);
    }
  };

  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    parse();
  });
  socket.on("close", markClosed);
  socket.on("end", markClosed);
  socket.on("error", markClosed);
  parse();

  return {
    ok: true,
    status: 101,
    headers,
    messages,
    received: () => all,
    sendText(text) {
      socket.write(frame(0x1, Buffer.from(text, "utf8")));
    },
    waitFor(what, pred, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = messages.find(pred);
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          } else if (isClosed) {
            waiters.delete(check);
            clearTimeout(timer);
            reject(new Error(`WebSocket closed before ${what}; received: ${all.slice(-2000)}`));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no WebSocket message ${what} within ${timeoutMs} ms; received: ${all.slice(-2000)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      if (isClosed) return;
      try {
        socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
      } catch {
        // Already gone.
      }
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
    },
    closed,
  };
}

/**
 * Opens a WebSocket to `url` (http:// or ws://) with these extra request headers (Origin, Cookie, …).
 * Resolves with the open connection, or with how the upgrade was refused; never rejects for a refusal.
 */
export function openWebSocket(url: string, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<WsResult> {
  const target = new URL(url.replace(/^ws/, "http"));
  const key = crypto.randomBytes(16).toString("base64");
  const expectedAccept = crypto.createHash("sha1").update(key + GUID).digest("base64");
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: target.hostname,
      port: target.port,
      path: target.pathname + target.search,
      method: "GET",
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
        ...headers,
      },
      timeout: timeoutMs,
    });
    let settled = false;
    const settle = (r: WsResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    req.on("upgrade", (res, socket, head) => {
      if (res.headers["sec-websocket-accept"] !== expectedAccept) {
        socket.destroy();
        if (!settled) {
          settled = true;
          reject(new Error(`upgrade answered with a wrong Sec-WebSocket-Accept: ${res.headers["sec-websocket-accept"]}`));
        }
        return;
      }
      settle(connection(socket, head, res.headers));
    });
    req.on("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (s: string) => (body += s));
      res.on("end", () => settle({ ok: false, status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", () => settle({ ok: false, status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("timeout", () => {
      req.destroy(new Error(`no answer to the upgrade within ${timeoutMs} ms`));
    });
    req.on("error", (e) => settle({ ok: false, status: 0, headers: {}, body: "", error: e.message }));
    req.end();
  });
}
