import { z } from "zod";

const halves = (min: number, max: number, unit: string) =>
  z
    .number({ error: `must be a number of ${unit}` })
    .min(min)
    .max(max)
    .refine((n) => Number.isInteger(n * 2), "must be a whole number or end in .5");

export const workspaceNameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(64, "must be at most 64 characters")
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters");

// Strict: a body that tries to set an image string, command, mounts, devices, env or anything else is refused.
export const launchWorkspaceSchema = z.strictObject({
  name: workspaceNameSchema,
  imageId: z.string().min(1).max(64),
  gpus: z.number({ error: "must be a whole number of GPUs" }).int("must be a whole number").min(0).max(16).default(0),
  memoryGb: halves(0.5, 2048, "GB"),
  cpus: halves(0.5, 512, "CPUs"),
});
export type LaunchWorkspaceInput = z.input<typeof launchWorkspaceSchema>;

