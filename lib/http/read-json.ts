import { z } from "zod";
import { ApiError } from "../errors";

export const MAX_BODY_BYTES = 1024 * 1024;

// Reads at most MAX_BODY_BYTES, so an oversized body is refused without being buffered whole.
async function readBodyBytes(req: Request): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  if (!req.body) return new Uint8Array();
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > MAX_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.byteLength;
  }
  return out;
}

function tooLarge(): ApiError {
  return new ApiError("payload_too_large", `Request body is larger than ${MAX_BODY_BYTES} bytes.`);
}

export function formatZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const field = issue.path.map(String).join(".");
      if (issue.code === "unrecognized_keys") {
        return `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
      }
      return field ? `${field}: ${issue.message}` : issue.message;
    })
    .join("; ");
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const fields = [...new Set(result.error.issues.map((i) => i.path.map(String).join(".")).filter(Boolean))];
    throw new ApiError("validation_failed", formatZodError(result.error), { fields });
  }
  return result.data;
}

/** Parses a JSON request body strictly: size, UTF-8, JSON syntax, then the schema. An empty body counts as `{}`. */
export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const bytes = await readBodyBytes(req);
  let value: unknown = {};
  if (bytes.byteLength > 0) {
    const type = req.headers.get("content-type") ?? "";
    if (type && !/^application\/json\b/i.test(type)) {
      throw new ApiError("unsupported_media_type", "Send the request body as application/json.");
    }
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      throw new ApiError("invalid_encoding", "The request body is not valid UTF-8.");
    }
    try {
      value = JSON.parse(text);
    } catch {
      throw new ApiError("invalid_json", "The request body is not valid JSON.");
    }
  }
  return parseWith(schema, value);
}
