import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedLoginUser, type LoginUser } from "../helpers/proxy";
import { JUPYTER_COMMAND, JUPYTER_IMAGE, startGantry, type GantryEnv } from "../helpers/workspaces";

// A workspace is "running" as soon as its container runs, while Jupyter takes a moment more to listen. The first
// request right after a launch, a start or a reset (what Open sends) must reach Jupyter, not the proxy's 502: the
// proxy waits for a server that has just started (lib/proxy/wait-for-upstream.ts). Found by bench/load.ts, where
// every open straight after a launch answered 502.

let g: GantryEnv;
let alice: LoginUser;
let imageId: string;

const statusNow = async (ws: { url: string }, token: string) => {
  const res = await fetch(`${ws.url}api/status`, { headers: { authorization: `token ${token}` } });
  return { status: res.status, text: await res.text() };
};

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-proxy-startup-" });
  alice = await seedLoginUser(g, "alice");
  imageId = await g.addImage({ name: "jupyter", ref: JUPYTER_IMAGE, command: JUPYTER_COMMAND });
}, 300_000);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("the first request after a workspace (re)starts", () => {
  it("reaches Jupyter straight after launch, start and reset", async () => {
    const launched = await g.api("/api/workspaces", { token: alice.token, json: { name: "fresh", imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
    expect(launched.status, launched.text).toBe(201);
    expect(launched.body.status).toBe("running");
    const first = await statusNow(launched.body, alice.token);
    expect(first.status, first.text).toBe(200);
    expect(JSON.parse(first.text)).toHaveProperty("started");

    const stopped = await g.api(`/api/workspaces/${launched.body.id}/stop`, { method: "POST", token: alice.token, json: {} });
    expect(stopped.status, stopped.text).toBe(200);
    const started = await g.api(`/api/workspaces/${launched.body.id}/start`, { method: "POST", token: alice.token, json: {} });
    expect(started.status, started.text).toBe(200);
    const afterStart = await statusNow(started.body, alice.token);
    expect(afterStart.status, afterStart.text).toBe(200);

    const reset = await g.api(`/api/workspaces/${launched.body.id}/reset`, { method: "POST", token: alice.token, json: {} });
    expect(reset.status, reset.text).toBe(200);
    const afterReset = await statusNow(reset.body, alice.token);
    expect(afterReset.status, afterReset.text).toBe(200);
  }, 180_000);
});
