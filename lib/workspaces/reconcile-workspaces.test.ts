import { describe, expect, it } from "vitest";
import type { Observed } from "../backend/types";
import { observedStatus } from "./reconcile-workspaces";

function unit(over: Partial<Observed> = {}): Observed {
  return {
    ref: "c0ffee",
    running: true,
    oomKilled: false,
    exitCode: 0,
    startedAt: new Date("2025-01-01T00:00:00Z"),
    finishedAt: null,
    workspaceId: "ws1",
    gpuUuids: [],
    address: "172.18.0.2",
    ...over,
  };
}

const container = unit;
const exited = (exitCode: number, over: Partial<Observed> = {}) => unit({ running: false, address: null, exitCode, finishedAt: new Date("2025-01-01T01:00:00Z"), ...over });

describe("observedStatus", () => {
  it("a stopped or errored workspace is not turned running by a container started outside Gantry (it holds no GPUs)", () => {
    expect(observedStatus("error", container(), 4)).toBeNull();
    expect(observedStatus("stopped", container(), 4)).toBeNull();
  });

  it("a running workspace with a running container needs no change", () => {
    expect(observedStatus("running", container(), 4)).toBeNull();
  });

  it("an OOM-killed container is an error that says out of memory and names the limit, and releases the GPUs", () => {
    const next = observedStatus("running", exited(137, { oomKilled: true }), 4);
    expect(next).toMatchObject({ status: "error", endReason: "oom" });
    expect(next!.message).toMatch(/out of memory/i);
    expect(next!.message).toContain("4 GB");
  });

  it("a container removed outside Gantry is an error that releases the GPUs", () => {
    const next = observedStatus("running", null, 4);
    expect(next).toMatchObject({ status: "error", endReason: expect.any(String) });
    expect(next!.message).toMatch(/removed outside Gantry/);
  });

  it("a main process that exited 0 leaves the workspace stopped, releasing its GPUs", () => {
    expect(observedStatus("running", exited(0), 4)).toMatchObject({ status: "stopped", endReason: "exited" });
  });

  it("a non-zero exit (docker kill, a crash) is an error naming the exit code, releasing its GPUs", () => {
    const next = observedStatus("running", exited(137), 4);
    expect(next).toMatchObject({ status: "error", endReason: "crash" });
    expect(next!.message).toContain("137");
  });

  it("leaves stopped and errored workspaces alone when their container exited", () => {
    for (const current of ["stopped", "error"] as const) {
      expect(observedStatus(current, exited(0), 4)).toBeNull();
      expect(observedStatus(current, exited(137), 4)).toBeNull();
    }
    expect(observedStatus("stopped", null, 4)).toBeNull();
  });

  it("an errored workspace whose container is then removed says so (the old exit message would be stale)", () => {
    expect(observedStatus("error", null, 4)).toMatchObject({ status: "error", message: expect.stringMatching(/removed outside Gantry/) });
  });

  it("an errored workspace whose OOM is already recorded needs no change", () => {
    const first = observedStatus("running", exited(137, { oomKilled: true }), 4)!;
    expect(observedStatus("error", exited(137, { oomKilled: true }), 4)).toEqual(first);
  });

  it("a workspace the user stopped after an OOM stays stopped (the old OOM flag does not turn it back into an error)", () => {
    // OOM → error; the user presses Stop (allowed from error) → stopped. Docker keeps State.OOMKilled on the exited
    // container, so the next reconcile must not flip the workspace back to error.
    expect(observedStatus("stopped", exited(137, { oomKilled: true }), 4)).toBeNull();
  });
});
