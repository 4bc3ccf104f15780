import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QUICK_STOP_COMMAND } from "../helpers/gantry-api";
import { BUSYBOX_IMAGE, SETUP_TIMEOUT_MS, exec, startGantry, type GantryEnv, type Seeded } from "../helpers/workspaces";

// Workspaces share one network (without traffic between them). Docker's embedded DNS still answers a reverse lookup of
// a neighbour's address with its container's name, so that name must give nothing away: no email, no workspace name,
// no workspace id (a grant target). Tried from inside a real workspace, with the lookup tools its image has.

let g: GantryEnv;
let imageId: string;
let spy: Seeded;
let victim: Seeded;

beforeAll(async () => {
  g = await startGantry({ prefix: "gantry-neighbours-" });
  imageId = await g.addImage({ name: "busybox", ref: BUSYBOX_IMAGE, command: QUICK_STOP_COMMAND });
  spy = await g.seedUser("spy");
  victim = await g.seedUser("victimsecret");
}, SETUP_TIMEOUT_MS);

afterAll(async () => {
  await g?.cleanup();
  await g?.server.stop();
  g?.dataDir.remove();
});

describe("what a workspace can learn of its neighbours", () => {
  it("a reverse lookup of every neighbour's address names no email, workspace name or workspace id", async () => {
    const launch = (u: Seeded, name: string) => g.api("/api/workspaces", { token: u.token, json: { name, imageId, gpus: 0, memoryGb: 0.5, cpus: 0.5 } });
    const mine = await launch(spy, "spy-box");
    const theirs = [await launch(victim, "thesis-topsecret"), await launch(victim, "grant-target-two")];
    for (const r of [mine, ...theirs]) expect(r.status, r.text).toBe(201);
    const inspect = async (id: string) => (await import("../helpers/workspaces")).inspect(id);
    const spyContainer = mine.body.containerId as string;
    const secrets = [victim.email.split("@")[0], victim.email, ...theirs.flatMap((t) => [t.body.name, t.body.id]), victim.id];
    let answered = 0;
    for (const t of theirs) {
      const info = (await inspect(t.body.containerId))!;
      const address = info.NetworkSettings.Networks["gantry-workspaces"].IPAddress;
      expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      const lookup = await exec(spyContainer, ["nslookup", address]);
      const text = lookup.stdout + lookup.stderr;
      // The lookup really reached Docker's DNS and got a name back (else this test would prove nothing) …
      if (/name\s*=|Name:/i.test(text)) answered++;
      // … and that name says nothing about whose it is.
      for (const s of secrets) expect(text, `nslookup ${address} from a neighbour`).not.toContain(s);
    }
    expect(answered, "Docker's DNS answered the reverse lookups").toBeGreaterThan(0);
    // Nor does the workspace's own hostname or environment carry anything of another user.
    const env = await exec(spyContainer, ["sh", "-c", "hostname; cat /etc/hosts /etc/resolv.conf; env"]);
    for (const s of secrets) expect(env.stdout).not.toContain(s);
    for (const r of [mine, ...theirs]) await g.api(`/api/workspaces/${r.body.id}`, { token: r === mine ? spy.token : victim.token, method: "DELETE" });
  });
});
