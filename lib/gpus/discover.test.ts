import { EventEmitter } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runNvidiaSmi } from "./discover";
import { NVIDIA_SMI_ARGS } from "./parse-nvidia-smi";

// Stand-ins for nvidia-smi: small shell scripts written per test, run through the real execFile.
let dir = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gantry-nvidia-smi-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function standIn(name: string, body: string, mode = 0o755): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/sh\n${body}\n`, { mode });
  return path;
}

/** Shell that prints text verbatim (quotes and all) on stdout, or on stderr with toStderr. */
function print(text: string, toStderr = false): string {
  return `cat <<'END_OF_TEXT'${toStderr ? " >&2" : ""}\n${text}\nEND_OF_TEXT`;
}

const CSV = [
  "0, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c20, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
  "1, GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c21, NVIDIA H100 80GB HBM3, 81559, 535.104.05",
].join("\n");

const DRIVER_DOWN =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.";

describe("runNvidiaSmi against stand-in executables", () => {
  it("returns the GPUs a working nvidia-smi prints", async () => {
    const path = await standIn("ok", print(CSV));
    const result = await runNvidiaSmi(path);
    expect(result.error).toBeNull();
    expect(result.warnings).toEqual([]);
    expect(result.gpus).toEqual([
      { index: 0, uuid: "GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c20", name: "NVIDIA H100 80GB HBM3", memoryTotalMb: 81559, driverVersion: "535.104.05" },
      { index: 1, uuid: "GPU-6a1b3c2d-0f1e-4a5b-9c8d-7e6f5a4b3c21", name: "NVIDIA H100 80GB HBM3", memoryTotalMb: 81559, driverVersion: "535.104.05" },
    ]);
  });

  it("passes exactly the query arguments, each as its own argument", async () => {
    const argsFile = join(dir, "args.txt");
    const path = await standIn("record-args", `printf '%s\\n' "$#" "$@" > '${argsFile}'\n${print(CSV)}`);
    const result = await runNvidiaSmi(path);
    expect(result.error).toBeNull();
    const recorded = (await readFile(argsFile, "utf8")).trimEnd().split("\n");
    expect(recorded).toEqual(["2", ...NVIDIA_SMI_ARGS]);
  });

  it("runs a path with spaces and shell syntax as a file name, not a command line", async () => {
    // Through a shell this would run "<dir>/nvidia" (missing) and then "exit 42".
    const path = await standIn("nvidia smi; exit 42", print(CSV));
    const result = await runNvidiaSmi(path);
    expect(result.error).toBeNull();
    expect(result.gpus).toHaveLength(2);
  });

  it("says the host has no NVIDIA driver when the binary is missing", async () => {
    const path = join(dir, "no-such-nvidia-smi");
    expect(await runNvidiaSmi(path)).toEqual({
      gpus: [],
      warnings: [],
      error: `nvidia-smi not found at ${path}: this host has no NVIDIA driver, so it has no GPUs for Gantry`,
    });
  });

  it("reports a non-zero exit with the code, its meaning and stderr's first line", async () => {
    const path = await standIn("exit9", `${print(`${DRIVER_DOWN}\nsecond line of stderr`, true)}\nexit 9`);
    const result = await runNvidiaSmi(path);
    expect(result.gpus).toEqual([]);
    expect(result.error).toBe(`nvidia-smi at ${path} exited with code 9 (the NVIDIA driver is not loaded): ${DRIVER_DOWN}`);
  });

  it("falls back to stdout's first line when stderr is empty, as the real nvidia-smi prints its errors there", async () => {
    const path = await standIn("exit9-stdout", `${print(`\n${DRIVER_DOWN}`)}\nexit 9`);
    const result = await runNvidiaSmi(path);
    expect(result.error).toBe(`nvidia-smi at ${path} exited with code 9 (the NVIDIA driver is not loaded): ${DRIVER_DOWN}`);
  });

  it("reports an exit code it has no meaning for without inventing one", async () => {
    const path = await standIn("exit3", "exit 3");
    expect((await runNvidiaSmi(path)).error).toBe(`nvidia-smi at ${path} exited with code 3`);
  });

  it("turns an error printed with exit status 0 into an error, not an empty GPU list", async () => {
    const path = await standIn("exit0-error", print(DRIVER_DOWN));
    const result = await runNvidiaSmi(path);
    expect(result.gpus).toEqual([]);
    expect(result.error).toContain(DRIVER_DOWN);
  });

  it("treats 'No devices were found' (exit 6) as a host with no GPUs, not an error", async () => {
    const path = await standIn("no-devices", "echo 'No devices were found'\nexit 6");
    expect(await runNvidiaSmi(path)).toEqual({ gpus: [], warnings: [], error: null });
  });

  it("passes on the parser's warnings and anything printed on stderr", async () => {
    const path = await standIn(
      "warnings",
      [
        print(CSV.split("\n")[0]),
        "echo '0, MIG-4f2b8a6c-1e3d-5a7b-9c0d-2e4f6a8b0c11, NVIDIA H100 80GB HBM3 MIG 3g.40gb, 40192, 535.104.05'",
        "echo 'WARNING: infoROM is corrupted at gpu 0000:3B:00.0' >&2",
      ].join("\n"),
    );
    const result = await runNvidiaSmi(path);
    expect(result.error).toBeNull();
    expect(result.gpus.map((g) => g.index)).toEqual([0]);
    expect(result.warnings).toHaveLength(2);
    expect(result.warnings[0]).toContain("is a MIG device");
    expect(result.warnings[1]).toBe("nvidia-smi also printed on stderr: WARNING: infoROM is corrupted at gpu 0000:3B:00.0");
  });

  it("stops a hung nvidia-smi at the timeout and says so", async () => {
    const path = await standIn("hang", "echo 'probing GPUs' >&2\nexec sleep 30");
    const started = Date.now();
    const result = await runNvidiaSmi(path, 300);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.gpus).toEqual([]);
    expect(result.error).toBe(`nvidia-smi at ${path} did not answer within 0.3 s and was stopped: probing GPUs`);
  });

  it("stops a hung wrapper script whose child keeps the output pipe open", async () => {
    const path = await standIn("hang-wrapper", "sleep 30\necho never");
    const started = Date.now();
    const result = await runNvidiaSmi(path, 300);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(result.error).toBe(`nvidia-smi at ${path} did not answer within 0.3 s and was stopped`);
  });

  it("reports a file it may not execute", async () => {
    const path = await standIn("not-executable", print(CSV), 0o644);
    const result = await runNvidiaSmi(path);
    expect(result.gpus).toEqual([]);
    expect(result.error).toBe(`nvidia-smi at ${path} could not be started (permission denied); it must be an executable file`);
  });

  it("reports a crash by its signal", async () => {
    const path = await standIn("segv", "kill -SEGV $$");
    expect((await runNvidiaSmi(path)).error).toBe(`nvidia-smi at ${path} was killed by SIGSEGV`);
  });

  it("refuses output far larger than any real GPU list", async () => {
    const path = await standIn("flood", "head -c 2000000 /dev/zero | tr '\\0' 'x'");
    const result = await runNvidiaSmi(path);
    expect(result.gpus).toEqual([]);
    expect(result.error).toMatch(/printed more than 1048576 bytes/);
  });

  it("never throws, even for a path execFile rejects outright", async () => {
    const result = await runNvidiaSmi("");
    expect(result.gpus).toEqual([]);
    expect(result.error).toMatch(/^nvidia-smi at "" could not be run: /);
  });
});

describe("runNvidiaSmi when the child never reports back", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.doUnmock("node:child_process");
    vi.resetModules();
  });

  it("gives up two seconds after the timeout and kills the process", async () => {
    // A process stuck in the kernel outlives SIGKILL, so execFile's callback never comes; simulate exactly that.
    const child = Object.assign(new EventEmitter(), {
      stdout: new PassThrough(),
      stderr: new PassThrough(),
      kill: vi.fn(() => true),
    });
    const execFile = vi.fn(() => child);
    vi.resetModules();
    vi.doMock("node:child_process", () => ({ execFile }));
    const { runNvidiaSmi: run } = await import("./discover");

    vi.useFakeTimers();
    let settled = false;
    const pending = run("/usr/bin/nvidia-smi", 1000).then((r) => {
      settled = true;
      return r;
    });
    await vi.advanceTimersByTimeAsync(2999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual({
      gpus: [],
      warnings: [],
      error: "nvidia-smi at /usr/bin/nvidia-smi did not answer within 1 s and was stopped",
    });
    expect(child.kill).toHaveBeenCalledWith("SIGKILL");
    expect(child.stdout.destroyed).toBe(true);
    expect(execFile).toHaveBeenCalledWith("/usr/bin/nvidia-smi", [...NVIDIA_SMI_ARGS], expect.objectContaining({ timeout: 1000 }), expect.any(Function));
  });
});
