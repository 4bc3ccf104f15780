import { db } from "../db/client";
import { ApiError } from "../errors";
import { checkCudaCompatibility, parseCudaRequirement } from "./cuda-compat";
import { driverVersionOf } from "./parse-nvidia-smi";

/** The host's driver version (the lowest, should GPUs disagree), from the last nvidia-smi inventory. */
export async function hostDriverVersion(): Promise<string | null> {
  return driverVersionOf(await db().gpu.findMany({ select: { driverVersion: true } }));
}

/** Refuses a GPU workspace whose image needs a newer CUDA than the host's driver offers, before anything is created. */
export async function checkCudaForImage(imageId: string, imageEnv: string[]): Promise<void> {
  const image = await db().image.findUnique({ where: { id: imageId }, select: { cudaVersion: true } });
  const imageCuda = image?.cudaVersion ?? parseCudaRequirement(imageEnv);
  const result = checkCudaCompatibility({ imageCuda, driverVersion: await hostDriverVersion() });
  if (!result.ok) throw new ApiError("cuda_incompatible", result.message, { minimumDriver: result.minimumDriver, imageCuda });
}
