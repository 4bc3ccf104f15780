import { describe, expect, it } from "vitest";
import { launchLimitsFrom, usageOfWorkspaces } from "./launch-limits";
import { HOLDING_STATUSES, STATUSES } from "../workspaces/lifecycle";

const quota = { maxGpus: 2, maxMemoryGb: 32, maxCpus: 8, maxWorkspaces: 3, gpuHoursBudget: null, budgetPeriod: "week" as const };

describe("usageOfWorkspaces", () => {
  it("counts what workspaces in holding statuses hold, and every workspace", () => {
    const ws = STATUSES.map((status) => ({ status, gpus: 1, memoryGb: 2, cpus: 0.5 }));
    const held = HOLDING_STATUSES.length;
    expect(usageOfWorkspaces(ws)).toEqual({ gpus: held, memoryGb: 2 * held, cpus: 0.5 * held, workspaces: STATUSES.length });
    expect(usageOfWorkspaces([])).toEqual({ gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 });
  });
});

describe("launchLimitsFrom", () => {
  const headroom = { handedOut: { memoryGb: 40, cpus: 10 }, gpusFree: 1 };
  const host = { memoryGb: 64, cpus: 16 };
  const reserve = { memoryGb: 8, cpus: 2 };

  it("takes the lower of the quota left and the host left", () => {
    const usage = { gpus: 0, memoryGb: 4, cpus: 1, workspaces: 1 };
    expect(launchLimitsFrom({ quota, usage, budget: null, host, reserve, headroom })).toEqual({
      gpus: { max: 1, quotaLeft: 2, hostFree: 1 },
      memoryGb: { max: 16, quotaLeft: 28, hostLeft: 16 },
      cpus: { max: 4, quotaLeft: 7, hostLeft: 4 },
      workspacesLeft: 2,
      budget: null,
    });
  });

  it("without the host's size (Docker unreachable), the quota alone; never below zero", () => {
    const usage = { gpus: 3, memoryGb: 40, cpus: 9, workspaces: 5 };
    const limits = launchLimitsFrom({ quota, usage, budget: null, host: null, reserve, headroom });
    expect(limits.memoryGb).toEqual({ max: 0, quotaLeft: 0, hostLeft: null });
    expect(limits.cpus).toEqual({ max: 0, quotaLeft: 0, hostLeft: null });
    expect(limits.gpus.max).toBe(0);
    expect(limits.workspacesLeft).toBe(0);
  });

  it("a used-up GPU-hour budget allows no GPUs", () => {
    const usage = { gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 };
    const resetsAt = new Date("2026-12-07T00:00:00Z");
    const budget = { budget: 10, period: "week" as const, used: 10, left: 0, from: new Date("2026-11-30T00:00:00Z"), resetsAt, burningGpus: 0 };
    const limits = launchLimitsFrom({ quota, usage, budget, host, reserve, headroom: { ...headroom, gpusFree: 4 } });
    expect(limits.gpus).toEqual({ max: 0, quotaLeft: 2, hostFree: 4 });
    expect(limits.budget).toEqual({ left: 0, budget: 10, period: "week", resetsAt: resetsAt.toISOString() });
  });
});
