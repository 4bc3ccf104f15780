import { describe, expect, it } from "vitest";
import { driverVersionOf, NVIDIA_SMI_ARGS, parseNvidiaSmiCsv, parseNvidiaSmiReport, type ParsedGpu } from "./parse-nvidia-smi";

const H100_8X = [
  "0, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c20, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "1, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c21, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "2, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c22, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "3, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c23, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "4, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c24, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "5, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c25, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "6, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c26, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "7, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c27, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
].join("\n");

const DRIVER_DOWN =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

describe("NVIDIA_SMI_ARGS", () => {
  it("asks for the columns in the order the parser reads them", () => {
    expect(NVIDIA_SMI_ARGS).toEqual([
      "--query-gpu=index,uuid,name,memory.total,driver_version",
      "--format=csv,noheader,nounits",
    ]);
  });
});

describe("parseNvidiaSmiCsv", () => {
  it("reads every GPU of an 8-GPU host", () => {
    const gpus = parseNvidiaSmiCsv(H100_8X + "\n");
    expect(gpus).toHaveLength(8);
    expect(gpus.map((g) => g.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(gpus[0]).toEqual<ParsedGpu>({
      index: 0,
      uuid: "GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c20",
      name: "NVIDIA H100 80GB HBM3",
      memoryTotalMb: 81559,
      driverVersion: "535.104.05",
    });
    expect(gpus[7].uuid).toBe("GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c27");
  });

  it("reads more than 9 GPUs (two-digit indexes) and sorts them by index", () => {
    const lines = Array.from(
      { length: 16 },
      (_, i) => `${i}, GPU-00000000-0000-0000-0000-0000000000${String(i).padStart(2, "0")}, NVIDIA A100-SXM4-80GB, 81920, 550.54.15`,
    );
    const shuffled = [...lines.slice(8), ...lines.slice(0, 8)].join("\n");
    const gpus = parseNvidiaSmiCsv(shuffled);
    expect(gpus.map((g) => g.index)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(gpus[15].uuid).toBe("GPU-00000000-0000-0000-0000-000000000015");
  });

  it("copes with CRLF line endings, trailing spaces and blank lines", () => {
    const text =
      "\r\n0, GPU-11111111-2222-3333-4444-555555555555, NVIDIA RTX A6000, 49140, 550.54.14   \r\n" +
      "   \r\n" +
      "1 , GPU-11111111-2222-3333-4444-555555555556 , NVIDIA RTX A6000 , 49140 , 550.54.14\r\n\r\n";
    const report = parseNvidiaSmiReport(text);
    expect(report.warnings).toEqual([]);
    expect(report.gpus).toEqual([
      { index: 0, uuid: "GPU-11111111-2222-3333-4444-555555555555", name: "NVIDIA RTX A6000", memoryTotalMb: 49140, driverVersion: "550.54.14" },
      { index: 1, uuid: "GPU-11111111-2222-3333-4444-555555555556", name: "NVIDIA RTX A6000", memoryTotalMb: 49140, driverVersion: "550.54.14" },
    ]);
  });

  it("keeps names with spaces, parentheses and even a comma whole", () => {
    const gpus = parseNvidiaSmiCsv(
      [
        "0, GPU-aaaaaaaa-0000-0000-0000-000000000000, NVIDIA GeForce RTX 3080 Ti Laptop GPU, 16384, 535.54.03",
        "1, GPU-aaaaaaaa-0000-0000-0000-000000000001, Tesla V100-SXM2-32GB (Rev. A), 32768, 535.54.03",
        "2, GPU-aaaaaaaa-0000-0000-0000-000000000002, Quadro RTX 8000, Passive, 46080, 535.54.03",
      ].join("\n"),
    );
    expect(gpus.map((g) => g.name)).toEqual([
      "NVIDIA GeForce RTX 3080 Ti Laptop GPU",
      "Tesla V100-SXM2-32GB (Rev. A)",
      "Quadro RTX 8000, Passive",
    ]);
    expect(gpus[2].memoryTotalMb).toBe(46080);
    expect(gpus[2].driverVersion).toBe("535.54.03");
  });

  it("turns [N/A], [Not Supported] and [Insufficient Permissions] into null memory and driver, without warnings", () => {
    const report = parseNvidiaSmiReport(
      [
        "0, GPU-bbbbbbbb-0000-0000-0000-000000000000, NVIDIA A10, [N/A], [N/A]",
        "1, GPU-bbbbbbbb-0000-0000-0000-000000000001, NVIDIA A10, [Not Supported], 550.54.14",
        "2, GPU-bbbbbbbb-0000-0000-0000-000000000002, NVIDIA A10, 23028, [Insufficient Permissions]",
        "3, GPU-bbbbbbbb-0000-0000-0000-000000000003, NVIDIA A10, N/A, [Unknown Error]",
      ].join("\n"),
    );
    expect(report.warnings).toEqual([]);
    expect(report.gpus.map((g) => [g.memoryTotalMb, g.driverVersion])).toEqual([
      [null, null],
      [null, "550.54.14"],
      [23028, null],
      [null, null],
    ]);
  });

  it("names a GPU whose name is a placeholder rather than showing [N/A]", () => {
    const [gpu] = parseNvidiaSmiCsv("0, GPU-cccccccc-0000-0000-0000-000000000000, [N/A], 24576, 535.104.05");
    expect(gpu.name).toBe("Unknown NVIDIA GPU");
  });

  it("tolerates memory printed with its unit (output run without nounits)", () => {
    const [gpu] = parseNvidiaSmiCsv("0, GPU-dddddddd-0000-0000-0000-000000000000, NVIDIA L4, 23034 MiB, 535.104.05");
    expect(gpu.memoryTotalMb).toBe(23034);
  });

  it("skips a header line without a warning", () => {
    const report = parseNvidiaSmiReport(
      "index, uuid, name, memory.total [MiB], driver_version\n0, GPU-eeeeeeee-0000-0000-0000-000000000000, NVIDIA L4, 23034, 535.104.05\n",
    );
    expect(report.gpus).toHaveLength(1);
    expect(report.warnings).toEqual([]);
  });

  it("returns an empty list for 'No devices were found'", () => {
    expect(parseNvidiaSmiReport("No devices were found\n")).toEqual({ gpus: [], warnings: [] });
    expect(parseNvidiaSmiReport("No devices were found\r\n\r\n")).toEqual({ gpus: [], warnings: [] });
  });

  it("returns an empty list for empty output", () => {
    expect(parseNvidiaSmiReport("")).toEqual({ gpus: [], warnings: [] });
    expect(parseNvidiaSmiReport("\n \r\n")).toEqual({ gpus: [], warnings: [] });
  });

  it("throws nvidia-smi's own words when it cannot reach the driver", () => {
    expect(() => parseNvidiaSmiCsv(`${DRIVER_DOWN}\n\n`)).toThrow(DRIVER_DOWN);
    expect(() => parseNvidiaSmiCsv(`${DRIVER_DOWN}\r\n`)).toThrow(DRIVER_DOWN);
  });

  it("throws on an NVML driver/library mismatch, keeping both lines", () => {
    const text = "Failed to initialize NVML: Driver/library version mismatch\nNVML library version: 550.54\n";
    let message = "";
    try {
      parseNvidiaSmiCsv(text);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("Failed to initialize NVML: Driver/library version mismatch");
    expect(message).toContain("NVML library version: 550.54");
  });

  it("quotes the error from its first line even after other chatter", () => {
    const text = ["Warning: persistence mode is disabled", "Note: something", "Another note", "Yet another", DRIVER_DOWN].join("\n");
    expect(() => parseNvidiaSmiCsv(text)).toThrow(`nvidia-smi reported an error: ${DRIVER_DOWN}`);
  });

  it("throws on unknown text when there are no GPU rows at all", () => {
    expect(() => parseNvidiaSmiCsv("Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error\n")).toThrow(
      /printed no GPU rows: Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error/,
    );
  });

  it("keeps the healthy GPUs and warns about an unknown line among them", () => {
    const report = parseNvidiaSmiReport(
      [
        "0, GPU-ffffffff-0000-0000-0000-000000000000, NVIDIA A100-PCIE-40GB, 40960, 535.104.05",
        "Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error",
        "2, GPU-ffffffff-0000-0000-0000-000000000002, NVIDIA A100-PCIE-40GB, 40960, 535.104.05",
      ].join("\n"),
    );
    expect(report.gpus.map((g) => g.index)).toEqual([0, 2]);
    expect(report.warnings).toEqual([
      'Line 2 skipped: it is not a GPU row ("Unable to determine the device handle for GPU0000:3B:00.0: Unknown Error").',
    ]);
  });

  it("skips and reports a row whose UUID is unusable", () => {
    const report = parseNvidiaSmiReport(
      [
        "0, GPU-12345678-0000-0000-0000-000000000000, NVIDIA A40, 46068, 535.104.05",
        "1, [N/A], NVIDIA A40, 46068, 535.104.05",
        "2, , NVIDIA A40, 46068, 535.104.05",
      ].join("\n"),
    );
    expect(report.gpus.map((g) => g.index)).toEqual([0]);
    expect(report.warnings).toHaveLength(2);
    expect(report.warnings[0]).toMatch(/^Line 2 skipped: the UUID "\[N\/A\]" is not a GPU UUID/);
    expect(report.warnings[1]).toMatch(/^Line 3 skipped: the UUID "" is not a GPU UUID/);
  });

  it("skips and reports a row whose index is unusable", () => {
    const report = parseNvidiaSmiReport(
      [
        "[N/A], GPU-12345678-0000-0000-0000-000000000001, NVIDIA A40, 46068, 535.104.05",
        "-1, GPU-12345678-0000-0000-0000-000000000002, NVIDIA A40, 46068, 535.104.05",
        "1, GPU-12345678-0000-0000-0000-000000000003, NVIDIA A40, 46068, 535.104.05",
      ].join("\n"),
    );
    expect(report.gpus.map((g) => g.uuid)).toEqual(["GPU-12345678-0000-0000-0000-000000000003"]);
    expect(report.warnings[0]).toMatch(/^Line 1 skipped: the index "\[N\/A\]" is not a number/);
    expect(report.warnings[1]).toMatch(/^Line 2 skipped: the index "-1" is not a number/);
  });

  it("keeps the physical GPU of a MIG-enabled card and notes MIG device rows", () => {
    const report = parseNvidiaSmiReport(
      [
        "0, GPU-5e8a1c3b-7d2f-4e6a-9b1c-0d3e5f7a9b10, NVIDIA A100-SXM4-80GB, 81920, 535.104.05",
        "0, MIG-4f2b8a6c-1e3d-5a7b-9c0d-2e4f6a8b0c11, NVIDIA A100-SXM4-80GB MIG 3g.40gb, 40192, 535.104.05",
        "0, MIG-GPU-5e8a1c3b-7d2f-4e6a-9b1c-0d3e5f7a9b10/1/0, NVIDIA A100-SXM4-80GB MIG 1g.10gb, 9728, 535.104.05",
        "1, GPU-5e8a1c3b-7d2f-4e6a-9b1c-0d3e5f7a9b11, NVIDIA A100-SXM4-80GB, 81920, 535.104.05",
      ].join("\n"),
    );
    expect(report.gpus.map((g) => g.uuid)).toEqual([
      "GPU-5e8a1c3b-7d2f-4e6a-9b1c-0d3e5f7a9b10",
      "GPU-5e8a1c3b-7d2f-4e6a-9b1c-0d3e5f7a9b11",
    ]);
    expect(report.warnings).toHaveLength(2);
    expect(report.warnings[0]).toContain("MIG-4f2b8a6c-1e3d-5a7b-9c0d-2e4f6a8b0c11 is a MIG device");
    expect(report.warnings[0]).toContain("whole physical GPUs");
    expect(report.warnings[1]).toMatch(/^Line 3 skipped: MIG-GPU-5e8a1c3b/);
  });

  it("keeps the first of two rows with the same UUID and warns about the second", () => {
    const report = parseNvidiaSmiReport(
      [
        "0, GPU-abcdef01-0000-0000-0000-000000000000, NVIDIA L40S, 46068, 550.54.14",
        "1, GPU-ABCDEF01-0000-0000-0000-000000000000, NVIDIA L40S (copy), 46068, 550.54.14",
      ].join("\n"),
    );
    expect(report.gpus).toHaveLength(1);
    expect(report.gpus[0]).toMatchObject({ index: 0, name: "NVIDIA L40S" });
    expect(report.warnings).toEqual([
      'Line 2 skipped: GPU-ABCDEF01-0000-0000-0000-000000000000 was already listed on line 1 ("1, GPU-ABCDEF01-0000-0000-0000-000000000000, NVIDIA L40S (copy), 46068, 550.54.14").',
    ]);
  });

  it("warns about a memory or driver value that is neither a number nor a placeholder", () => {
    const report = parseNvidiaSmiReport("0, GPU-99999999-0000-0000-0000-000000000000, NVIDIA T4, lots, v535");
    expect(report.gpus[0]).toMatchObject({ memoryTotalMb: null, driverVersion: null });
    expect(report.warnings).toEqual([
      'Line 1: memory "lots" is not a number of MiB; left unknown.',
      'Line 1: driver version "v535" is not a version; left unknown.',
    ]);
  });

  it("reports a short line among GPU rows as skipped", () => {
    const report = parseNvidiaSmiReport(
      "0, GPU-99999999-0000-0000-0000-000000000001, NVIDIA T4, 15360, 535.104.05\n1, GPU-99999999-0000-0000-0000-000000000002, NVIDIA T4\n",
    );
    expect(report.gpus).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/^Line 2 skipped: it is not a GPU row/);
  });
});

describe("driverVersionOf", () => {
  const gpu = (driverVersion: string | null) => ({ driverVersion });

  it("returns the single version shared by all GPUs", () => {
    expect(driverVersionOf(parseNvidiaSmiCsv(H100_8X))).toBe("535.104.05");
  });

  it("returns the lowest when they differ, comparing numerically", () => {
    expect(driverVersionOf([gpu("550.54.15"), gpu("535.104.05"), gpu("535.54.03")])).toBe("535.54.03");
    expect(driverVersionOf([gpu("535.54.03"), gpu("535.104.05")])).toBe("535.54.03");
  });

  it("ignores GPUs without a version, and returns null when none has one", () => {
    expect(driverVersionOf([gpu(null), gpu("550.54.14"), gpu(null)])).toBe("550.54.14");
    expect(driverVersionOf([gpu(null), gpu(null)])).toBeNull();
    expect(driverVersionOf([])).toBeNull();
  });
});
