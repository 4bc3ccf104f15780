import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { STARTUP_GRACE_MS, waitForUpstream } from "./wait-for-upstream";

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("waitForUpstream", () => {
  it("waits for a server that has just started until it listens", async () => {
    const port = await freePort();
    const t0 = Date.now();
    setTimeout(() => {
      const s = net.createServer((c) => c.end());
      servers.push(s);
      s.listen(port, "127.0.0.1");
    }, 400);
    await waitForUpstream(`http://127.0.0.1:${port}`, `k1-${port}`, Date.now());
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
  });

  it("does not wait for a container that started before the grace, nor for one of unknown start", async () => {
    const port = await freePort();
    const t0 = Date.now();
    await waitForUpstream(`http://127.0.0.1:${port}`, `k2-${port}`, Date.now() - STARTUP_GRACE_MS - 1);
    await waitForUpstream(`http://127.0.0.1:${port}`, `k3-${port}`, null);
    expect(Date.now() - t0).toBeLessThan(50);
  });

  it("gives up when the grace ends, so a server that never listens still gets the proxy's answer", async () => {
    const port = await freePort();
    const t0 = Date.now();
    await waitForUpstream(`http://127.0.0.1:${port}`, `k4-${port}`, Date.now() - STARTUP_GRACE_MS + 500);
    const waited = Date.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(400);
    expect(waited).toBeLessThan(2_000);
  });
});
