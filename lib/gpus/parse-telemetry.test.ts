import { describe, expect, it } from "vitest";
import { parseTelemetryLine, telemetryArgs, TELEMETRY_FIELDS } from "./parse-telemetry";

describe("parseTelemetryLine", () => {
  it("reads a row as the real nvidia-smi prints it", () => {
    expect(parseTelemetryLine("0, GPU-3f8a1c2e-6b4d-7e91-a0c5-2d7f9b8e4a61, 87, 40536, 81920, 64, 312.45")).toEqual({
      index: 0,
      uuid: "GPU-3f8a1c2e-6b4d-7e91-a0c5-2d7f9b8e4a61",
      utilizationPercent: 87,
      memoryUsedMb: 40536,
      memoryTotalMb: 81920,
      temperatureC: 64,
      powerW: 312.45,
    });
  });

  it("reads placeholders as unknown, not as zero", () => {
    const r = parseTelemetryLine("1, GPU-9c2e7b14-0d3a-5f86-b4e1-7a6c3d9f2b08, [N/A], 10, 81920, [Not Supported], [N/A]");
    expect(r).toMatchObject({ utilizationPercent: null, memoryUsedMb: 10, temperatureC: null, powerW: null });
  });

  it("tolerates units left in (a query without nounits)", () => {
    expect(parseTelemetryLine("2, GPU-51d0a7f3-c8e2-94b6-1f7a-e3b5c0d84a92, 5 %, 100 MiB, 81920 MiB, 30, 50.00 W")).toMatchObject({
      utilizationPercent: 5,
      memoryUsedMb: 100,
      memoryTotalMb: 81920,
      powerW: 50,
    });
  });

  it("ignores headers, errors, MIG devices and rows of another shape", () => {
    expect(parseTelemetryLine("index, uuid, utilization.gpu [%], memory.used [MiB], memory.total [MiB], temperature.gpu, power.draw [W]")).toBeNull();
    expect(parseTelemetryLine("Failed to initialize NVML: Driver/library version mismatch")).toBeNull();
    expect(parseTelemetryLine("0, MIG-1234, 1, 2, 3, 4, 5")).toBeNull();
    expect(parseTelemetryLine("0, GPU-3f8a1c2e, 1, 2, 3")).toBeNull();
    expect(parseTelemetryLine("")).toBeNull();
  });

  it("refuses values no GPU reports (a utilisation over 100 %, negatives)", () => {
    expect(parseTelemetryLine("0, GPU-3f8a1c2e, 140, -1, 81920, 30, 50")).toMatchObject({ utilizationPercent: null, memoryUsedMb: null });
  });
});

describe("telemetryArgs", () => {
  it("asks for the fields in the parser's order, in loop mode", () => {
    expect(telemetryArgs(2000)).toEqual([`--query-gpu=${TELEMETRY_FIELDS}`, "--format=csv,noheader,nounits", "-lms", "2000"]);
    expect(telemetryArgs(10)).toContain("100");
  });
});
