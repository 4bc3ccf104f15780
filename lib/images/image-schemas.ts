import { z } from "zod";

// Docker's reference grammar (distribution/reference), restricted to pinned references: a tag other than
// "latest", or a digest. An unpinned image changes under its users without anyone deciding it.
const component = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const domain = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?";
const REFERENCE = new RegExp(
  `^(?:${domain}/)?${component}(?:/${component})*(?::(?<tag>[\\w][\\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$`,
);

export function checkImageRef(ref: string): string | null {
  const m = REFERENCE.exec(ref);
  if (!m || ref.length > 255) return "is not a valid image reference (e.g. pytorch/pytorch:2.4.1-cuda12.1-cudnn9-runtime)";
  const { tag, digest } = m.groups ?? {};
  if (!tag && !digest) return "must be pinned: give a tag or a digest (never rely on 'latest')";
  if (tag === "latest" && !digest) return "must not use the 'latest' tag: pin a version";
  return null;
}

export const imageRefSchema = z.string().trim().superRefine((ref, ctx) => {
  const problem = checkImageRef(ref);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const cudaVersionSchema = z.string().trim().regex(/^\d{1,2}\.\d{1,2}(\.\d{1,3})?$/, "must look like 12.1");

const commandSchema = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .refine((c) => !/[\u0000-\u001f]/.test(c), "must be a single line");

/** An image's own idle timeout in minutes: null follows the admin setting, 0 never stops its workspaces for idleness. */
export const idleTimeoutSchema = z.number().int().min(0).max(43_200);

export const imageInputSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  ref: imageRefSchema,
  description: z.string().trim().max(1000).default(""),
  command: commandSchema.nullable().optional(),
  port: z.number().int().min(1).max(65535).default(8888),
  cudaVersion: cudaVersionSchema.nullable().optional(),
  idleTimeoutMinutes: idleTimeoutSchema.nullable().optional(),
});
export type ImageInput = z.input<typeof imageInputSchema>;

export const imagePatchSchema = z.strictObject({
  name: z.string().trim().min(1).max(100).optional(),
  ref: imageRefSchema.optional(),
  description: z.string().trim().max(1000).optional(),
  command: commandSchema.nullable().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  cudaVersion: cudaVersionSchema.nullable().optional(),
  idleTimeoutMinutes: idleTimeoutSchema.nullable().optional(),
});
export type ImagePatch = z.input<typeof imagePatchSchema>;
