import { describe, expect, it } from "vitest";
import {
  CUDA_GA_MINIMUM_DRIVER,
  checkCudaCompatibility,
  compareDriverVersions,
  minimumDriverFor,
  parseCudaRequirement,
} from "./cuda-compat";

describe("minimumDriverFor", () => {
  it.each([
    ["10.0", "410.48"],
    ["10.1", "418.39"],
    ["10.2", "440.33"],
    ["11.0", "450.51.05"],
    ["11.8", "520.61.05"],
    ["12.0", "525.60.13"],
    ["12.1", "530.30.02"],
    ["12.2", "535.54.03"],
    ["12.4", "550.54.14"],
    ["12.8", "570.26"],
    ["13.0", "580.65.06"],
    ["13.3", "610.43.02"],
  ])("CUDA %s needs driver %s (the GA row of NVIDIA's table)", (cuda, driver) => {
    expect(minimumDriverFor(cuda)).toBe(driver);
  });

  it("reads a full toolkit version by its major.minor, not its update's driver", () => {
    // 12.4 Update 1 needs 550.54.15, but the toolkit's cuda>= check only sees 12.4: the GA driver is the bar.
    expect(minimumDriverFor("12.4.1")).toBe("550.54.14");
    expect(minimumDriverFor(" 12.2.2 ")).toBe("535.54.03");
  });

  it("returns null for versions NVIDIA never released, versions outside the table and non-versions", () => {
    expect(minimumDriverFor("12.7")).toBeNull();
    expect(minimumDriverFor("9.2")).toBeNull();
    expect(minimumDriverFor("14.0")).toBeNull();
    expect(minimumDriverFor("twelve")).toBeNull();
    expect(minimumDriverFor("12")).toBeNull();
    expect(minimumDriverFor("")).toBeNull();
  });

  it("has a strictly rising driver for each newer CUDA release", () => {
    const rows = Object.entries(CUDA_GA_MINIMUM_DRIVER).sort(([a], [b]) => {
      const [am, an] = a.split(".").map(Number);
      const [bm, bn] = b.split(".").map(Number);
      return am - bm || an - bn;
    });
    expect(rows[0][0]).toBe("10.0");
    for (let i = 1; i < rows.length; i++) {
      expect(compareDriverVersions(rows[i][1], rows[i - 1][1]), `${rows[i][0]} vs ${rows[i - 1][0]}`).toBe(1);
    }
  });
});

describe("compareDriverVersions", () => {
  it("compares part by part as numbers, not as text", () => {
    expect(compareDriverVersions("535.104.05", "535.54.03")).toBe(1);
    expect(compareDriverVersions("535.54.03", "535.104.05")).toBe(-1);
    expect(compareDriverVersions("550.54.14", "550.54.15")).toBe(-1);
    expect(compareDriverVersions("1000.1", "999.99.99")).toBe(1);
  });

  it("treats a missing part as zero", () => {
    expect(compareDriverVersions("570.26", "570.26.00")).toBe(0);
    expect(compareDriverVersions("570.26", "570.26.01")).toBe(-1);
    expect(compareDriverVersions("570", "570.0.0")).toBe(0);
  });

  it("ignores surrounding whitespace", () => {
    expect(compareDriverVersions(" 535.104.05\n", "535.104.05")).toBe(0);
  });

  it("throws on something that is not a driver version", () => {
    expect(() => compareDriverVersions("[N/A]", "535.104.05")).toThrow(/not an NVIDIA driver version/);
    expect(() => compareDriverVersions("535.104.05", "535.x")).toThrow(/535\.x/);
    expect(() => compareDriverVersions("", "1")).toThrow();
  });
});

describe("parseCudaRequirement", () => {
  it("reads cuda>=X.Y from NVIDIA_REQUIRE_CUDA as the nvidia/cuda images set it", () => {
    const env = [
      "PATH=/usr/local/nvidia/bin:/usr/local/cuda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      "NVARCH=x86_64",
      "NVIDIA_REQUIRE_CUDA=cuda>=12.1 brand=tesla,driver>=470,driver<471 brand=unknown,driver>=470,driver<471 brand=nvidia,driver>=470,driver<471",
      "NV_CUDA_CUDART_VERSION=12.1.105-1",
      "CUDA_VERSION=12.1.1",
      "NVIDIA_VISIBLE_DEVICES=all",
    ];
    expect(parseCudaRequirement(env)).toBe("12.1");
  });

  it("lets NVIDIA_REQUIRE_CUDA win over CUDA_VERSION, whichever comes first", () => {
    expect(parseCudaRequirement(["CUDA_VERSION=12.4.1", "NVIDIA_REQUIRE_CUDA=cuda>=12.2"])).toBe("12.2");
    expect(parseCudaRequirement(["NVIDIA_REQUIRE_CUDA=cuda>=11.8 brand=tesla,driver>=450", "CUDA_VERSION=12.4.1"])).toBe("11.8");
  });

  it("falls back to CUDA_VERSION, cut to major.minor", () => {
    expect(parseCudaRequirement(["CUDA_VERSION=12.1.1"])).toBe("12.1");
    expect(parseCudaRequirement(["CUDA_VERSION=10.0.130"])).toBe("10.0");
    expect(parseCudaRequirement(["CUDA_VERSION=11.8"])).toBe("11.8");
  });

  it("falls back to CUDA_VERSION when NVIDIA_REQUIRE_CUDA has no cuda>= term", () => {
    expect(parseCudaRequirement(["NVIDIA_REQUIRE_CUDA=brand=tesla,driver>=470", "CUDA_VERSION=11.4.3"])).toBe("11.4");
    expect(parseCudaRequirement(["NVIDIA_REQUIRE_CUDA=", "CUDA_VERSION=11.4.3"])).toBe("11.4");
  });

  it("does not mistake a driver>= or a cudnn term for the CUDA requirement", () => {
    expect(parseCudaRequirement(["NVIDIA_REQUIRE_CUDA=driver>=525 cudnn>=8.9"])).toBeNull();
    expect(parseCudaRequirement(["NVIDIA_REQUIRE_CUDA=arch=x86_64 cuda>=12.4"])).toBe("12.4");
  });

  it("uses the last entry when a name repeats, as Docker does", () => {
    expect(parseCudaRequirement(["CUDA_VERSION=11.8.0", "CUDA_VERSION=12.2.2"])).toBe("12.2");
  });

  it("returns null when the image declares no CUDA", () => {
    expect(parseCudaRequirement([])).toBeNull();
    expect(parseCudaRequirement(["PATH=/usr/bin", "PYTHON_VERSION=3.11.9"])).toBeNull();
    expect(parseCudaRequirement(["CUDA_VERSION=", "CUDA_HOME=/usr/local/cuda"])).toBeNull();
    expect(parseCudaRequirement(["MY_CUDA_VERSION=12.1.1"])).toBeNull();
  });
});

describe("checkCudaCompatibility", () => {
  it("passes a driver at or above the GA minimum", () => {
    expect(checkCudaCompatibility({ imageCuda: "12.4", driverVersion: "550.54.14" })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "12.2", driverVersion: "535.104.05" })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "11.8", driverVersion: "580.65.06" })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "12.1.1", driverVersion: "530.30.02" })).toEqual({ ok: true });
  });

  it("refuses an older driver with a sentence naming the CUDA, the driver needed and the driver present", () => {
    expect(checkCudaCompatibility({ imageCuda: "12.4", driverVersion: "535.104.05" })).toEqual({
      ok: false,
      minimumDriver: "550.54.14",
      message:
        "This image needs CUDA 12.4, which needs NVIDIA driver 550.54.14 or newer; this host has driver 535.104.05. " +
        "Ask an admin to update the driver or pick an image built for an older CUDA.",
    });
  });

  it("refuses one patch level below the minimum", () => {
    const result = checkCudaCompatibility({ imageCuda: "12.4", driverVersion: "550.54.13" });
    expect(result.ok).toBe(false);
  });

  it("compares 535.104 above 535.54 (numeric, not text)", () => {
    // As text "535.104.05" < "535.54.03"; a string comparison would refuse CUDA 12.2 here.
    expect(checkCudaCompatibility({ imageCuda: "12.2", driverVersion: "535.104.05" }).ok).toBe(true);
  });

  it("names the image's major.minor even when given a full version", () => {
    const result = checkCudaCompatibility({ imageCuda: "12.1.1", driverVersion: "525.147.05" });
    expect(result).toMatchObject({ ok: false, minimumDriver: "530.30.02" });
    if (!result.ok) expect(result.message).toContain("needs CUDA 12.1,");
  });

  it("holds a CUDA newer than the table to the newest known driver and says the table does not know it", () => {
    const result = checkCudaCompatibility({ imageCuda: "13.9", driverVersion: "590.44.01" });
    expect(result).toMatchObject({ ok: false, minimumDriver: "610.43.02" });
    if (!result.ok) {
      expect(result.message).toContain("CUDA 13.9");
      expect(result.message).toContain("newer than the CUDA versions Gantry knows");
      expect(result.message).toContain("610.43.02");
      expect(result.message).toContain("CUDA 13.3");
      expect(result.message).toContain("this host has driver 590.44.01");
      expect(result.message).toContain("Ask an admin to update the driver");
    }
  });

  it("passes a CUDA newer than the table when the driver meets the newest known minimum", () => {
    expect(checkCudaCompatibility({ imageCuda: "13.5", driverVersion: "616.10" })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "14.0", driverVersion: "610.43.02" })).toEqual({ ok: true });
  });

  it("holds a version missing inside the table to the next release's driver", () => {
    const result = checkCudaCompatibility({ imageCuda: "12.7", driverVersion: "560.35.05" });
    expect(result).toMatchObject({ ok: false, minimumDriver: "570.26" });
    if (!result.ok) expect(result.message).toContain("CUDA 12.8");
    expect(checkCudaCompatibility({ imageCuda: "12.7", driverVersion: "570.26" })).toEqual({ ok: true });
  });

  it("passes when either side is unknown", () => {
    expect(checkCudaCompatibility({ imageCuda: null, driverVersion: "470.42.01" })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "13.0", driverVersion: null })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: null, driverVersion: null })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "latest", driverVersion: "470.42.01" })).toEqual({ ok: true });
    expect(checkCudaCompatibility({ imageCuda: "13.0", driverVersion: "[N/A]" })).toEqual({ ok: true });
  });

  it("passes a CUDA older than the table rather than guessing", () => {
    expect(checkCudaCompatibility({ imageCuda: "9.2", driverVersion: "396.37" })).toEqual({ ok: true });
  });
});
