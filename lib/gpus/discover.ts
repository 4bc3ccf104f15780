import { execFile, type ChildProcess, type ExecFileException } from "node:child_process";
import { NVIDIA_SMI_ARGS, parseNvidiaSmiReport, type ParsedGpu } from "./parse-nvidia-smi";

export type NvidiaSmiResult = { gpus: ParsedGpu[]; warnings: string[]; error: string | null };

// A full 8-GPU answer is under 1 KB; anything near this is not the nvidia-smi we asked.
const MAX_OUTPUT_BYTES = 1024 * 1024;
// On timeout execFile kills the child and closes its pipes, but its callback waits for the process to exit, and an
// nvidia-smi stuck in the kernel on a wedged driver does not exit even on SIGKILL: stop waiting this long after that.
const GIVE_UP_AFTER_TIMEOUT_MS = 2000;

// nvidia-smi's exit status is an NVML return code; these are the ones an admin can act on.
const EXIT_MEANINGS: Record<number, string> = {
  4: "insufficient permissions",
  9: "the NVIDIA driver is not loaded",
  12: "the NVML library could not be found or loaded",
  14: "a GPU's infoROM is corrupted",
  15: "a GPU has fallen off the bus or become inaccessible",
};

function firstLine(text: string | undefined): string | null {
  const line = (text ?? "").split(/\r\n|\r|\n/).map((l) => l.trim()).find((l) => l !== "");
  return line === undefined ? null : line.length > 300 ? `${line.slice(0, 297)}…` : line;
}

function describeFailure(path: string, err: ExecFileException, stdout: string, stderr: string, timeoutMs: number): string {
  if (err.code === "ENOENT") return `nvidia-smi not found at ${path}: this host has no NVIDIA driver, so it has no GPUs for Gantry`;
  if (err.code === "EACCES") return `nvidia-smi at ${path} could not be started (permission denied); it must be an executable file`;
  if (err.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") {
    return `nvidia-smi at ${path} printed more than ${MAX_OUTPUT_BYTES} bytes, which is not the output Gantry expects from it`;
  }
  // nvidia-smi prints its own errors on stdout, so fall back to it when stderr is empty.
  const said = firstLine(stderr) ?? firstLine(stdout);
  const detail = said ? `: ${said}` : "";
  if (err.killed) return `nvidia-smi at ${path} did not answer within ${timeoutMs / 1000} s and was stopped${detail}`;
  if (typeof err.code === "number") {
    const meaning = EXIT_MEANINGS[err.code] ? ` (${EXIT_MEANINGS[err.code]})` : "";
    return `nvidia-smi at ${path} exited with code ${err.code}${meaning}${detail}`;
  }
  if (err.signal) return `nvidia-smi at ${path} was killed by ${err.signal}${detail}`;
  return `nvidia-smi at ${path} could not be run: ${err.message}`;
}

/**
 * Runs nvidia-smi (no shell: the path is an argument, never a command line) and returns the GPUs it lists. Never
 * throws: every failure comes back as `error`, a sentence for the admin, with no GPUs.
 */
export function runNvidiaSmi(path: string, timeoutMs = 10_000): Promise<NvidiaSmiResult> {
  return new Promise((resolve) => {
    let settled = false;
    let giveUp: NodeJS.Timeout | undefined;
    let child: ChildProcess | undefined;
    const finish = (result: NvidiaSmiResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(giveUp);
      resolve(result);
    };
    const fail = (error: string) => finish({ gpus: [], warnings: [], error });

    try {
      child = execFile(
        path,
        [...NVIDIA_SMI_ARGS],
        { encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: MAX_OUTPUT_BYTES, windowsHide: true },
        (err, stdout, stderr) => {
          // A loaded driver that sees no GPU makes nvidia-smi say so and exit 6: a host with no GPUs, not a fault.
          if (/No devices were found/i.test(`${stdout}\n${stderr}`)) {
            return finish({ gpus: [], warnings: [], error: null });
          }
          if (err) return fail(describeFailure(path, err, stdout, stderr, timeoutMs));
          try {
            const report = parseNvidiaSmiReport(stdout);
            const said = firstLine(stderr);
            const warnings = said ? [...report.warnings, `nvidia-smi also printed on stderr: ${said}`] : report.warnings;
            finish({ gpus: report.gpus, warnings, error: null });
          } catch (e) {
            fail((e as Error).message);
          }
        },
      );
    } catch (e) {
      // execFile throws synchronously on arguments it rejects outright (an empty path, a NUL byte).
      fail(`nvidia-smi at "${path}" could not be run: ${(e as Error).message}`);
      return;
    }

    giveUp = setTimeout(() => {
      child?.stdout?.destroy();
      child?.stderr?.destroy();
      child?.kill("SIGKILL");
      fail(`nvidia-smi at ${path} did not answer within ${timeoutMs / 1000} s and was stopped`);
    }, timeoutMs + GIVE_UP_AFTER_TIMEOUT_MS);
  });
}
