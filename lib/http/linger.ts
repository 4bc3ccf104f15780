import type http from "node:http";
import type net from "node:net";

/** How long a closing connection keeps its read side open after the last response was written. */
export const LINGER_MS = 3000;

/**
 * A lingering close, as nginx and Apache do it. When Node ends a connection after a response that says
 * `Connection: close` (Gantry's 413 for an oversized body does), it destroys the socket as soon as the response is
 * written. If the client is still sending its body, the kernel answers that data with a reset, and a reset makes the
 * client's kernel drop whatever it had received but not yet read: the client sees EPIPE/ECONNRESET instead of the 413.
 *
 * Here the write side is closed first (FIN); the socket is destroyed only when the client closes its side too, or
 * `ms` after the response was fully written. Nothing more is read into memory in the meantime: an unread body stays
 * in the kernel's buffers and the client's TCP window closes. Node calls `destroySoon` only for this purpose, so the
 * change is limited to connections that were closing anyway.
 */
export function lingerBeforeClose(server: http.Server, ms = LINGER_MS): void {
  server.on("connection", (socket: net.Socket) => {
    const closing = socket as net.Socket & { destroySoon?: () => void };
    closing.destroySoon = () => {
      if (socket.writable) socket.end();
      const afterWrite = () => {
        if (socket.destroyed) return;
        if (socket.readableEnded) {
          socket.destroy();
          return;
        }
        const timer = setTimeout(() => socket.destroy(), ms);
        timer.unref();
        socket.once("end", () => socket.destroy());
        socket.once("close", () => clearTimeout(timer));
      };
      if (socket.writableFinished) afterWrite();
      else socket.once("finish", afterWrite);
    };
  });
}
