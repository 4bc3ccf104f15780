import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, quotaSchema, settingsSchema } from "./settings";

const VALID = { maxGpus: 2, maxMemoryGb: 32, maxCpus: 8, maxWorkspaces: 3, gpuHoursBudget: null, budgetPeriod: "week" };

function issues(value: unknown): string[] {
  const r = quotaSchema.safeParse(value);
  // One entry per field: a value can break more than one rule of the same field.
  return r.success ? [] : [...new Set(r.error.issues.map((i) => i.path.join(".") || i.code))];
}

describe("quotaSchema", () => {
  it("accepts whole numbers, zero, and halves for memory and CPUs", () => {
    expect(quotaSchema.parse(VALID)).toEqual(VALID);
    // Without a budget (left out), the quota has none.
    expect(quotaSchema.parse({ maxGpus: 0, maxMemoryGb: 0, maxCpus: 0, maxWorkspaces: 0 })).toEqual({ maxGpus: 0, maxMemoryGb: 0, maxCpus: 0, maxWorkspaces: 0, gpuHoursBudget: null, budgetPeriod: "week" });
    expect(quotaSchema.parse({ ...VALID, maxMemoryGb: 0.5, maxCpus: 1.5 })).toMatchObject({ maxMemoryGb: 0.5, maxCpus: 1.5 });
  });

  it("takes a GPU-hour budget per week or month, in any fraction of an hour, and refuses others", () => {
    expect(quotaSchema.parse({ ...VALID, gpuHoursBudget: 0.25, budgetPeriod: "month" })).toMatchObject({ gpuHoursBudget: 0.25, budgetPeriod: "month" });
    expect(issues({ ...VALID, gpuHoursBudget: -1 })).toEqual(["gpuHoursBudget"]);
    expect(issues({ ...VALID, gpuHoursBudget: 1_000_001 })).toEqual(["gpuHoursBudget"]);
    expect(issues({ ...VALID, budgetPeriod: "year" })).toEqual(["budgetPeriod"]);
  });

  it("accepts the upper bounds and refuses one step beyond", () => {
    expect(issues({ maxGpus: 64, maxMemoryGb: 4096, maxCpus: 1024, maxWorkspaces: 100 })).toEqual([]);
    expect(issues({ maxGpus: 65, maxMemoryGb: 4096.5, maxCpus: 1024.5, maxWorkspaces: 101 })).toEqual(["maxGpus", "maxMemoryGb", "maxCpus", "maxWorkspaces"]);
  });

  it.each([
    ["negative GPUs", { maxGpus: -1 }, "maxGpus"],
    ["negative memory", { maxMemoryGb: -0.5 }, "maxMemoryGb"],
    ["negative CPUs", { maxCpus: -1 }, "maxCpus"],
    ["negative workspaces", { maxWorkspaces: -1 }, "maxWorkspaces"],
    ["fractional GPUs", { maxGpus: 1.5 }, "maxGpus"],
    ["fractional workspaces", { maxWorkspaces: 0.5 }, "maxWorkspaces"],
    ["0.3 GB of memory", { maxMemoryGb: 0.3 }, "maxMemoryGb"],
    ["0.25 CPUs", { maxCpus: 0.25 }, "maxCpus"],
    ["NaN GPUs", { maxGpus: Number.NaN }, "maxGpus"],
    ["NaN memory", { maxMemoryGb: Number.NaN }, "maxMemoryGb"],
    ["Infinity memory", { maxMemoryGb: Number.POSITIVE_INFINITY }, "maxMemoryGb"],
    ["GPUs beyond 2^53", { maxGpus: 2 ** 53 + 2 }, "maxGpus"],
    ["memory beyond 2^53", { maxMemoryGb: 2 ** 53 + 2 }, "maxMemoryGb"],
    ["a number as a string", { maxCpus: "4" }, "maxCpus"],
    ["null", { maxGpus: null }, "maxGpus"],
    ["a boolean", { maxWorkspaces: true }, "maxWorkspaces"],
  ])("refuses %s", (_name, change, field) => {
    expect(issues({ ...VALID, ...change })).toEqual([field]);
  });

  it("refuses a missing field and an unknown one", () => {
    const { maxCpus: _omitted, ...missing } = VALID;
    expect(issues(missing)).toEqual(["maxCpus"]);
    expect(issues({ ...VALID, maxDisks: 1 })).toEqual(["unrecognized_keys"]);
  });
});

describe("settingsSchema", () => {
  it("accepts the defaults", () => {
    expect(settingsSchema.parse(DEFAULT_SETTINGS)).toEqual(DEFAULT_SETTINGS);
  });

  // Only the form is the schema's: which host directories are refused is decided after resolving them
  // (host-paths.test.ts, and tests/integration/security-host-safety.test.ts through the API).
  it.each(["relative/path", "", "datasets/", "/srv/a\0b"])(
    "refuses the data path %j",
    (dataPath) => {
      expect(settingsSchema.safeParse({ ...DEFAULT_SETTINGS, dataPath }).success).toBe(false);
    },
  );

  it.each(["/srv/datasets", "/mnt/shared/data"])("accepts the data path %j", (dataPath) => {
    expect(settingsSchema.parse({ ...DEFAULT_SETTINGS, dataPath }).dataPath).toBe(dataPath);
  });
});
