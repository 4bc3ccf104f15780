import { describe, expect, it } from "vitest";
import { budgetPeriodEnd, budgetPeriodStart, budgetProblem, budgetStatus, capacityProblems, hostRemaining, pickGpus, quotaProblems, sumUsage, type Quota, type Usage } from "./quota-math";

const QUOTA: Quota = { maxGpus: 2, maxMemoryGb: 16, maxCpus: 4, maxWorkspaces: 3 };
const IDLE: Usage = { gpus: 0, memoryGb: 0, cpus: 0, workspaces: 0 };

describe("quotaProblems", () => {
  it("is empty when the request fits, also exactly at the limit", () => {
    expect(quotaProblems(QUOTA, IDLE, { gpus: 1, memoryGb: 4, cpus: 1, newWorkspace: true })).toEqual([]);
    expect(quotaProblems(QUOTA, { gpus: 1, memoryGb: 12, cpus: 3, workspaces: 2 }, { gpus: 1, memoryGb: 4, cpus: 1, newWorkspace: true })).toEqual([]);
  });

  it("names the GPUs over quota and by how much, in the issue's words", () => {
    expect(quotaProblems(QUOTA, { ...IDLE, gpus: 1, workspaces: 1 }, { gpus: 2, memoryGb: 1, cpus: 1, newWorkspace: true })).toEqual([
      "GPUs: 2 requested, 1 of 2 in use",
    ]);
  });

  it("names memory with its unit and halves as one decimal", () => {
    expect(quotaProblems(QUOTA, { ...IDLE, memoryGb: 12.5 }, { gpus: 0, memoryGb: 4, cpus: 1, newWorkspace: false })).toEqual([
      "Memory: 4 GB requested, 12.5 GB of 16 GB in use",
    ]);
  });

  it("names CPUs, with halves", () => {
    expect(quotaProblems({ ...QUOTA, maxCpus: 2.5 }, { ...IDLE, cpus: 2 }, { gpus: 0, memoryGb: 1, cpus: 1.5, newWorkspace: false })).toEqual([
      "CPUs: 1.5 requested, 2 of 2.5 in use",
    ]);
  });

  it("counts every existing workspace for a new one, and not for a start of an existing one", () => {
    const full = { ...IDLE, workspaces: 3 };
    expect(quotaProblems(QUOTA, full, { gpus: 0, memoryGb: 1, cpus: 1, newWorkspace: true })).toEqual(["Workspaces: 3 of 3 already exist"]);
    expect(quotaProblems(QUOTA, full, { gpus: 0, memoryGb: 1, cpus: 1, newWorkspace: false })).toEqual([]);
  });

  it("lists every resource that is over, in a fixed order", () => {
    const usage = { gpus: 2, memoryGb: 16, cpus: 4, workspaces: 3 };
    expect(quotaProblems(QUOTA, usage, { gpus: 1, memoryGb: 1, cpus: 0.5, newWorkspace: true })).toEqual([
      "GPUs: 1 requested, 2 of 2 in use",
      "Memory: 1 GB requested, 16 GB of 16 GB in use",
      "CPUs: 0.5 requested, 4 of 4 in use",
      "Workspaces: 3 of 3 already exist",
    ]);
  });

  it("refuses any GPU when the quota allows none", () => {
    expect(quotaProblems({ ...QUOTA, maxGpus: 0 }, IDLE, { gpus: 1, memoryGb: 1, cpus: 1, newWorkspace: true })).toEqual([
      "GPUs: 1 requested, 0 of 0 in use",
    ]);
  });

  it("after a quota is lowered below current use, refuses more of that resource", () => {
    // Two GPUs held, quota lowered to one: the next GPU launch is refused (the running ones stay).
    expect(quotaProblems({ ...QUOTA, maxGpus: 1 }, { ...IDLE, gpus: 2 }, { gpus: 1, memoryGb: 1, cpus: 1, newWorkspace: true })).toEqual([
      "GPUs: 1 requested, 2 of 1 in use",
    ]);
  });

  it("does not refuse a request for none of a resource that is already over", () => {
    expect(quotaProblems({ ...QUOTA, maxGpus: 1 }, { ...IDLE, gpus: 2 }, { gpus: 0, memoryGb: 1, cpus: 1, newWorkspace: false })).toEqual([]);
  });
});

describe("hostRemaining and capacityProblems", () => {
  it("subtracts the reserve and what is handed out", () => {
    expect(hostRemaining({ memoryGb: 64, cpus: 16 }, { memoryGb: 2, cpus: 1 }, { memoryGb: 30, cpus: 4.5 })).toEqual({ memoryGb: 32, cpus: 10.5 });
  });

  it("never goes below zero, even when more is handed out than the host has", () => {
    expect(hostRemaining({ memoryGb: 8, cpus: 2 }, { memoryGb: 2, cpus: 1 }, { memoryGb: 10, cpus: 4 })).toEqual({ memoryGb: 0, cpus: 0 });
  });

  it("a reserve larger than the host leaves nothing", () => {
    expect(hostRemaining({ memoryGb: 4, cpus: 2 }, { memoryGb: 8, cpus: 4 }, { memoryGb: 0, cpus: 0 })).toEqual({ memoryGb: 0, cpus: 0 });
  });

  it("accepts a request that exactly fills what is left", () => {
    expect(capacityProblems({ memoryGb: 8, cpus: 2 }, { memoryGb: 8, cpus: 2 })).toEqual([]);
  });

  it("names memory and CPUs that do not fit, with what is left", () => {
    expect(capacityProblems({ memoryGb: 6.5, cpus: 1.5 }, { memoryGb: 8, cpus: 2 })).toEqual([
      "Memory: 8 GB requested, 6.5 GB left on this host",
      "CPUs: 2 requested, 1.5 left on this host",
    ]);
    expect(capacityProblems({ memoryGb: 100, cpus: 0 }, { memoryGb: 1, cpus: 0.5 })).toEqual(["CPUs: 0.5 requested, 0 left on this host"]);
  });
});

describe("sumUsage", () => {
  it("adds up GPUs, memory and CPUs", () => {
    expect(sumUsage([])).toEqual({ gpus: 0, memoryGb: 0, cpus: 0 });
    expect(
      sumUsage([
        { gpus: 1, memoryGb: 4.5, cpus: 0.5 },
        { gpus: 2, memoryGb: 8, cpus: 2 },
      ]),
    ).toEqual({ gpus: 3, memoryGb: 12.5, cpus: 2.5 });
  });
});

describe("pickGpus", () => {
  const free = [
    { uuid: "GPU-c", index: 2 },
    { uuid: "GPU-a", index: 0 },
    { uuid: "GPU-d", index: 3 },
    { uuid: "GPU-b", index: 1 },
  ];

  it("takes the lowest indexes first, whatever order they come in", () => {
    expect(pickGpus(free, 1)).toEqual(["GPU-a"]);
    expect(pickGpus(free, 3)).toEqual(["GPU-a", "GPU-b", "GPU-c"]);
  });

  it("prefers the GPUs the workspace had before, then the lowest indexes", () => {
    expect(pickGpus(free, 2, ["GPU-d", "GPU-c"])).toEqual(["GPU-c", "GPU-d"]);
    expect(pickGpus(free, 2, ["GPU-d"])).toEqual(["GPU-d", "GPU-a"]);
  });

  it("ignores previous GPUs that are no longer free", () => {
    expect(pickGpus(free, 2, ["GPU-zzz", "GPU-b"])).toEqual(["GPU-b", "GPU-a"]);
  });

  it("returns null when too few are free, and [] when none are asked for", () => {
    expect(pickGpus(free, 5)).toBeNull();
    expect(pickGpus([], 1)).toBeNull();
    expect(pickGpus([], 0)).toEqual([]);
    expect(pickGpus(free, 0, ["GPU-a"])).toEqual([]);
  });

  it("never returns the same GPU twice and does not reorder its input", () => {
    const input = [...free];
    const picked = pickGpus(input, 4, ["GPU-b", "GPU-b"])!;
    expect(new Set(picked).size).toBe(4);
    expect(picked).toEqual(["GPU-b", "GPU-a", "GPU-c", "GPU-d"]);
    expect(input).toEqual(free);
  });
});

describe("GPU-hour budgets", () => {
  const now = new Date("2026-12-02T12:00:00Z"); // a Wednesday
  it("weeks start on Monday 00:00 UTC, months on the 1st", () => {
    expect(budgetPeriodStart("week", now).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(budgetPeriodEnd("week", now).toISOString()).toBe("2026-12-07T00:00:00.000Z");
    expect(budgetPeriodStart("month", now).toISOString()).toBe("2026-12-01T00:00:00.000Z");
    expect(budgetPeriodEnd("month", new Date("2026-12-31T23:59:59Z")).toISOString()).toBe("2027-01-01T00:00:00.000Z");
    expect(budgetPeriodStart("week", new Date("2026-11-30T00:00:00Z")).toISOString()).toBe("2026-11-30T00:00:00.000Z");
    expect(budgetPeriodStart("week", new Date("2026-12-06T23:59:59Z")).toISOString()).toBe("2026-11-30T00:00:00.000Z");
  });

  it("counts GPU-hours inside the period only, open intervals up to now", () => {
    const s = budgetStatus(
      10,
      "week",
      [
        { gpus: 2, startedAt: new Date("2026-11-29T22:00:00Z"), endedAt: new Date("2026-11-30T01:00:00Z") }, // 1 h inside, x2
        { gpus: 1, startedAt: new Date("2026-12-02T09:00:00Z"), endedAt: null }, // 3 h so far
        { gpus: 0, startedAt: new Date("2026-12-01T00:00:00Z"), endedAt: null },
      ],
      now,
    );
    expect(s.used).toBeCloseTo(5, 6);
    expect(s.left).toBeCloseTo(5, 6);
  });

  it("refuses a GPU launch once nothing is left, never a CPU-only one", () => {
    const spent = budgetStatus(2, "week", [{ gpus: 1, startedAt: new Date("2026-12-02T09:00:00Z"), endedAt: new Date("2026-12-02T11:00:00Z") }], now);
    expect(budgetProblem(spent, 1)).toBe("GPU-hour budget: 2.0 of 2.0 GPU-hours used this week; it starts again 2026-12-07 00:00 UTC");
    expect(budgetProblem(spent, 0)).toBeNull();
    expect(budgetProblem(budgetStatus(3, "week", [], now), 1)).toBeNull();
  });
});
