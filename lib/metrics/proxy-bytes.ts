import type { Socket } from "node:net";
import { countProxyBytes } from "./metrics";

// The proxy's traffic, counted on its sockets to the workspaces: bytesWritten went to the workspace, bytesRead came
// from it (HTTP headers and bodies, WebSocket frames). Read off the socket's own counters when a response ends, every
// few seconds for open WebSockets, and when a socket closes: nothing is done per chunk.

const counted = new WeakMap<Socket, { read: number; written: number }>();

/** Adds what the socket carried since it was last counted. */
export function countUpstreamSocket(socket: Socket): void {
  let last = counted.get(socket);
  if (!last) {
    last = { read: 0, written: 0 };
    counted.set(socket, last);
    // A socket counted once is counted a last time when it closes (a kept-alive one may carry more requests first).
    socket.once("close", () => countUpstreamSocket(socket));
  }
  const read = socket.bytesRead;
  const written = socket.bytesWritten;
  if (read === last.read && written === last.written) return;
  countProxyBytes(written - last.written, read - last.read);
  last.read = read;
  last.written = written;
}
