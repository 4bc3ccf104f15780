import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { writeBody } from "../../tests/helpers/write-body";
import { lingerBeforeClose } from "./linger";

// Loopback sockets only: the behaviour under test is the kernel's (a reset drops what the client has not read yet).

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A server that, like Gantry's body limit, stops reading after 64 KiB and answers 413 with Connection: close. */
async function refusingServer(lingerMs: number | null): Promise<{ port: number; closedAfterMs: number[] }> {
  const closedAfterMs: number[] = [];
  const server = http.createServer((req, res) => {
    let seen = 0;
    req.on("data", (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > 64 * 1024 && !res.headersSent) {
        req.pause();
        const answered = Date.now();
        req.socket.once("close", () => closedAfterMs.push(Date.now() - answered));
        res.writeHead(413, { "content-type": "text/plain", connection: "close" }).end("too large");
      }
    });
    req.on("end", () => {
      if (!res.headersSent) res.end("ok");
    });
  });
  if (lingerMs !== null) lingerBeforeClose(server, lingerMs);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { port: (server.address() as AddressInfo).port, closedAfterMs };
}

/** Streams `mb` MiB as a chunked body; resolves with the status read, or the socket error if none was. */
function upload(port: number, mb: number, opts: { closeOnResponse?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", agent: false, headers: { "transfer-encoding": "chunked" } });
    req.on("response", (res) => {
      resolve(String(res.statusCode));
      res.resume();
      if (opts.closeOnResponse) req.destroy();
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    void writeBody(req, Array.from({ length: mb * 16 }, () => chunk));
  });
}

describe("lingerBeforeClose", () => {
  it("a client still sending its body reads the 413 every time, not a reset", async () => {
    const { port } = await refusingServer(3000);
    const answers: string[] = [];
    for (let i = 0; i < 40; i++) answers.push(await upload(port, 3, { closeOnResponse: true }));
    expect(answers.filter((a) => a !== "413")).toEqual([]);
  });

  it("a connection whose request was read whole closes as soon as the client hangs up, not after the linger time", async () => {
    const closedAfterMs: number[] = [];
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const answered = Date.now();
        req.socket.once("close", () => closedAfterMs.push(Date.now() - answered));
        res.writeHead(200, { connection: "close" }).end("ok");
      });
    });
    lingerBeforeClose(server, 5000);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: "POST", body: "small" });
    expect(await res.text()).toBe("ok");
    await expect.poll(() => closedAfterMs.length, { timeout: 3000 }).toBe(1);
    expect(closedAfterMs[0]).toBeLessThan(1000);
  });

  it("a client that keeps sending is cut off after the linger time, and nothing of its body is buffered", async () => {
    const { port, closedAfterMs } = await refusingServer(300);
    const rssBefore = process.memoryUsage().rss;
    expect(await upload(port, 512)).toBe("413");
    await expect.poll(() => closedAfterMs.length, { timeout: 3000 }).toBe(1);
    expect(closedAfterMs[0]).toBeGreaterThanOrEqual(250);
    expect(closedAfterMs[0]).toBeLessThan(2000);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(128 * 1024 * 1024);
  });
});
