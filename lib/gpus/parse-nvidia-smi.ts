import { compareDriverVersions } from "./cuda-compat";

// Reads what `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` prints on real hosts: one row per physical GPU,
// "[N/A]"-style placeholders where a field cannot be read, and free text instead of rows when the driver is broken.

export type ParsedGpu = {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMb: number | null;
  driverVersion: string | null;
};

export type NvidiaSmiReport = {
  gpus: ParsedGpu[];
  /** One sentence per line that was left out, for the admin's GPU page and the log. */
  warnings: string[];
};

/** The query the parser expects: the column order below is the order of the fields in each row. */
export const NVIDIA_SMI_ARGS: readonly string[] = [
  "--query-gpu=index,uuid,name,memory.total,driver_version",
  "--format=csv,noheader,nounits",
];

/** Messages nvidia-smi prints instead of rows when it cannot talk to the driver at all. */
const FATAL_PATTERNS = [
  /NVIDIA-SMI has failed/i,
  /couldn't communicate with the NVIDIA driver/i,
  /Failed to initialize NVML/i,
  /Driver\/library version mismatch/i,
];

const NO_DEVICES = /^No devices were found/i;

/** "[N/A]", "[Not Supported]", "[Insufficient Permissions]", "[Unknown Error]"…, and the bare "N/A" of older drivers. */
function isPlaceholder(field: string): boolean {
  return /^\[.*\]$/.test(field) || /^N\/A$/i.test(field);
}

const GPU_UUID = /^GPU-[0-9a-f]+(?:-[0-9a-f]+)*$/i;
const MIG_UUID = /^MIG-/i;

class NvidiaSmiOutputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NvidiaSmiOutputError";
  }
}

function quote(line: string): string {
  return line.length > 160 ? `"${line.slice(0, 157)}…"` : `"${line}"`;
}

/**
 * Parses nvidia-smi's CSV into physical GPUs plus a warning for every line left out. Throws when nvidia-smi printed
 * an error instead of GPU rows (driver not loaded, NVML mismatch…); the error's message carries nvidia-smi's own words.
 */
export function parseNvidiaSmiReport(text: string): NvidiaSmiReport {
  let fatalFrom = -1;
  // Every line that is not a GPU row, in order: nvidia-smi's error text often spans lines
  // ("Failed to initialize NVML: Driver/library version mismatch" then "NVML library version: 550.54").
  const unrecognized: { lineNo: number; line: string }[] = [];
  const rows: { lineNo: number; line: string; parts: string[] }[] = [];

  text.split(/\r\n|\r|\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "" || NO_DEVICES.test(line)) return;
    const parts = line.split(",");
    if (fatalFrom < 0 && FATAL_PATTERNS.some((re) => re.test(line))) fatalFrom = unrecognized.length;
    if (fatalFrom >= 0 || parts.length < 5) {
      unrecognized.push({ lineNo: i + 1, line });
      return;
    }
    // A header means someone ran it without noheader (a wrapper script, say); it carries no GPU.
    if (parts[0].trim().toLowerCase() === "index" && parts[1].trim().toLowerCase() === "uuid") return;
    rows.push({ lineNo: i + 1, line, parts });
  });

  const said = (from = 0) => unrecognized.slice(from, from + 4).map((u) => u.line).join(" ");
  if (fatalFrom >= 0) throw new NvidiaSmiOutputError(`nvidia-smi reported an error: ${said(fatalFrom)}`);
  // Text and no rows at all is an error we do not know by name (e.g. "Unable to determine the device handle for GPU…"
  // on a host whose only GPU fell off the bus): say it rather than report a host with zero GPUs.
  if (rows.length === 0 && unrecognized.length > 0) {
    throw new NvidiaSmiOutputError(`nvidia-smi printed no GPU rows: ${said()}`);
  }

  const warnings = unrecognized.map((u) => `Line ${u.lineNo} skipped: it is not a GPU row (${quote(u.line)}).`);
  const gpus: ParsedGpu[] = [];
  const seen = new Map<string, number>();

  for (const { lineNo, line, parts } of rows) {
    // Only the name can contain a comma; the two fields before it and the two after it are fixed.
    const indexField = parts[0].trim();
    const uuid = parts[1].trim();
    const name = parts.slice(2, -2).join(",").trim();
    const memoryField = parts[parts.length - 2].trim();
    const driverField = parts[parts.length - 1].trim();
    const skip = (reason: string) => warnings.push(`Line ${lineNo} skipped: ${reason} (${quote(line)}).`);

    if (MIG_UUID.test(uuid)) {
      skip(`${uuid} is a MIG device; Gantry allocates whole physical GPUs, listed by their GPU- UUID`);
      continue;
    }
    if (!GPU_UUID.test(uuid)) {
      skip(`the UUID "${uuid}" is not a GPU UUID, so the GPU cannot be allocated`);
      continue;
    }
    if (!/^\d+$/.test(indexField)) {
      skip(`the index "${indexField}" is not a number`);
      continue;
    }
    const firstLine = seen.get(uuid.toLowerCase());
    if (firstLine !== undefined) {
      skip(`${uuid} was already listed on line ${firstLine}`);
      continue;
    }
    seen.set(uuid.toLowerCase(), lineNo);

    let memoryTotalMb: number | null = null;
    const memory = /^(\d+(?:\.\d+)?)(?:\s*MiB)?$/i.exec(memoryField);
    if (memory) memoryTotalMb = Math.round(Number(memory[1]));
    else if (!isPlaceholder(memoryField)) warnings.push(`Line ${lineNo}: memory "${memoryField}" is not a number of MiB; left unknown.`);

    let driverVersion: string | null = null;
    if (/^\d+(\.\d+)*$/.test(driverField)) driverVersion = driverField;
    else if (!isPlaceholder(driverField)) warnings.push(`Line ${lineNo}: driver version "${driverField}" is not a version; left unknown.`);

    gpus.push({
      index: Number(indexField),
      uuid,
      name: name === "" || isPlaceholder(name) ? "Unknown NVIDIA GPU" : name,
      memoryTotalMb,
      driverVersion,
    });
  }

  gpus.sort((a, b) => a.index - b.index);
  return { gpus, warnings };
}

/** The GPUs alone; see parseNvidiaSmiReport for the warnings and the errors it throws. */
export function parseNvidiaSmiCsv(text: string): ParsedGpu[] {
  return parseNvidiaSmiReport(text).gpus;
}

/**
 * The host's driver version. One host runs one driver, so the rows agree; if they ever differ (a driver update
 * half applied), the lowest is the one every GPU can be trusted to have. Null when no row reported a usable version.
 */
export function driverVersionOf(gpus: readonly Pick<ParsedGpu, "driverVersion">[]): string | null {
  let lowest: string | null = null;
  for (const { driverVersion } of gpus) {
    if (driverVersion === null || !/^\d+(\.\d+)*$/.test(driverVersion.trim())) continue;
    if (lowest === null || compareDriverVersions(driverVersion, lowest) < 0) lowest = driverVersion;
  }
  return lowest;
}
