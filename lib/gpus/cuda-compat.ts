// Whether the host's NVIDIA driver can run an image's CUDA version, decided before a container is created so the user
// gets an actionable sentence instead of the container toolkit's "unsatisfied condition: cuda>=12.4" at start.
//
// Why the GA table and not minor-version compatibility: since CUDA 11 a CUDA 12.x program can often run on any R525+
// driver ("minor version compatibility"), but the NVIDIA Container Toolkit does not use that rule. For an image that
// sets NVIDIA_REQUIRE_CUDA=cuda>=X.Y (every nvidia/cuda base image does), it compares X.Y with the CUDA version the
// driver itself reports (cuDriverGetVersion, the "CUDA Version" in nvidia-smi's banner) and refuses to start the
// container when it is lower. A driver reports exactly the CUDA version it shipped with, so "driver >= the GA driver
// of CUDA X.Y" is the condition the toolkit will actually enforce.

/**
 * Minimum Linux x86_64 driver for each CUDA toolkit's GA release, keyed by major.minor.
 *
 * Source: NVIDIA CUDA Toolkit Release Notes, section "CUDA Driver", table "CUDA Toolkit and Corresponding Driver
 * Versions" (Linux x86_64 column, the "GA" row of each minor release), as published with CUDA 13.1:
 * https://docs.nvidia.com/cuda/archive/13.1.0/cuda-toolkit-release-notes/index.html
 *   - 10.x rows have no "GA" label there; the single row per release is used (10.0.130, 10.1.105, 10.2.89).
 *   - 11.0: "CUDA 11.0.2 GA" (the earlier 11.0.1 row is an RC).
 *   - 12.7 was never released, so it is absent.
 * 13.2 and 13.3 are newer than that page; their rows (13.2 GA >=595.45.04, 13.3 GA >=610.43.02) are taken from the
 * same table in the CUDA 13.2/13.3 release notes as quoted by several independent public copies, which agree.
 * CUDA 13.4 and later are not listed: from 13.4 the Linux driver is no longer bundled with the toolkit and no
 * per-release driver version could be confirmed. Those fall back to the newest entry (see checkCudaCompatibility).
 */
export const CUDA_GA_MINIMUM_DRIVER: Readonly<Record<string, string>> = {
  "10.0": "410.48",
  "10.1": "418.39",
  "10.2": "440.33",
  "11.0": "450.51.05",
  "11.1": "455.23",
  "11.2": "460.27.03",
  "11.3": "465.19.01",
  "11.4": "470.42.01",
  "11.5": "495.29.05",
  "11.6": "510.39.01",
  "11.7": "515.43.04",
  "11.8": "520.61.05",
  "12.0": "525.60.13",
  "12.1": "530.30.02",
  "12.2": "535.54.03",
  "12.3": "545.23.06",
  "12.4": "550.54.14",
  "12.5": "555.42.02",
  "12.6": "560.28.03",
  "12.8": "570.26",
  "12.9": "575.51.03",
  "13.0": "580.65.06",
  "13.1": "590.44.01",
  "13.2": "595.45.04",
  "13.3": "610.43.02",
};

type CudaVersion = { major: number; minor: number };

function parseCudaVersion(text: string): CudaVersion | null {
  const m = /^\s*(\d{1,3})\.(\d{1,3})(?:\.\d+)*\s*$/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : null;
}

function compareCuda(a: CudaVersion, b: CudaVersion): number {
  return a.major - b.major || a.minor - b.minor;
}

/** The table's CUDA versions, oldest first. */
const KNOWN_CUDA: { key: string; version: CudaVersion; driver: string }[] = Object.entries(CUDA_GA_MINIMUM_DRIVER)
  .map(([key, driver]) => ({ key, version: parseCudaVersion(key)!, driver }))
  .sort((a, b) => compareCuda(a.version, b.version));

/** The minimum driver for a CUDA version's GA release ("12.4" or "12.4.1" → "550.54.14"); null when it is not in the table. */
export function minimumDriverFor(cuda: string): string | null {
  const v = parseCudaVersion(cuda);
  if (!v) return null;
  return CUDA_GA_MINIMUM_DRIVER[`${v.major}.${v.minor}`] ?? null;
}

function parseDriverVersion(text: string): number[] {
  const trimmed = text.trim();
  if (!/^\d+(\.\d+)*$/.test(trimmed)) throw new Error(`"${text}" is not an NVIDIA driver version (like 535.104.05)`);
  return trimmed.split(".").map(Number);
}

/**
 * Orders NVIDIA driver versions numerically, part by part ("535.104.05" > "535.54.03"); a missing part counts as 0,
 * so "570.26" equals "570.26.0". Returns a negative number, 0 or a positive number. Throws on a non-version string.
 */
export function compareDriverVersions(a: string, b: string): number {
  const pa = parseDriverVersion(a);
  const pb = parseDriverVersion(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Docker's Config.Env as a map; a later entry for the same name wins, as it does when Docker builds the environment. */
function envMap(env: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of env) {
    const eq = entry.indexOf("=");
    if (eq > 0) map.set(entry.slice(0, eq).trim(), entry.slice(eq + 1));
  }
  return map;
}

/**
 * The CUDA version (major.minor) an image needs, from its config's Env: the `cuda>=X.Y` term of NVIDIA_REQUIRE_CUDA
 * (what the container toolkit enforces), else CUDA_VERSION; null when the image declares neither.
 */
export function parseCudaRequirement(env: readonly string[]): string | null {
  const vars = envMap(env);
  const requireCuda = vars.get("NVIDIA_REQUIRE_CUDA");
  if (requireCuda !== undefined) {
    const m = /(?:^|[\s,])cuda\s*>=\s*(\d+)\.(\d+)/i.exec(requireCuda);
    if (m) return `${Number(m[1])}.${Number(m[2])}`;
  }
  const version = vars.get("CUDA_VERSION");
  if (version !== undefined) {
    const v = parseCudaVersion(version);
    if (v) return `${v.major}.${v.minor}`;
  }
  return null;
}

export type CudaCompatibility = { ok: true } | { ok: false; message: string; minimumDriver: string };

const ADVICE = "Ask an admin to update the driver or pick an image built for an older CUDA.";

/**
 * Whether a host driver can start an image built for a CUDA version. Unknown inputs (no CUDA requirement, no driver
 * version, unparseable strings, CUDA older than the table) pass: the check exists to explain a certain refusal, not
 * to block launches on a guess.
 */
export function checkCudaCompatibility(input: { imageCuda: string | null; driverVersion: string | null }): CudaCompatibility {
  const { imageCuda, driverVersion } = input;
  if (imageCuda === null || driverVersion === null) return { ok: true };
  const cuda = parseCudaVersion(imageCuda);
  if (!cuda || !/^\s*\d+(\.\d+)*\s*$/.test(driverVersion)) return { ok: true };
  const driver = driverVersion.trim();
  const cudaLabel = `${cuda.major}.${cuda.minor}`;
  const hostPart = `this host has driver ${driver}.`;

  const exact = minimumDriverFor(cudaLabel);
  if (exact !== null) {
    if (compareDriverVersions(driver, exact) >= 0) return { ok: true };
    return {
      ok: false,
      minimumDriver: exact,
      message: `This image needs CUDA ${cudaLabel}, which needs NVIDIA driver ${exact} or newer; ${hostPart} ${ADVICE}`,
    };
  }

  const newest = KNOWN_CUDA[KNOWN_CUDA.length - 1];
  if (compareCuda(cuda, newest.version) > 0) {
    // Newer than anything the table knows: its driver is at least the newest known one, and likely newer.
    if (compareDriverVersions(driver, newest.driver) >= 0) return { ok: true };
    return {
      ok: false,
      minimumDriver: newest.driver,
      message:
        `This image needs CUDA ${cudaLabel}, which is newer than the CUDA versions Gantry knows; it needs at least ` +
        `NVIDIA driver ${newest.driver} (the driver for CUDA ${newest.key}) and probably a newer one; ${hostPart} ${ADVICE}`,
    };
  }

  // A gap inside the table (a version NVIDIA never released, like 12.7): hold it to the next release's driver.
  const next = KNOWN_CUDA.find((k) => compareCuda(k.version, cuda) > 0);
  if (!next || compareCuda(cuda, KNOWN_CUDA[0].version) < 0) return { ok: true };
  if (compareDriverVersions(driver, next.driver) >= 0) return { ok: true };
  return {
    ok: false,
    minimumDriver: next.driver,
    message:
      `This image needs CUDA ${cudaLabel}, which is not in Gantry's driver table; the next known release, CUDA ${next.key}, ` +
      `needs NVIDIA driver ${next.driver} or newer; ${hostPart} ${ADVICE}`,
  };
}
