import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError } from "../errors";
import { MAX_BODY_BYTES, readJson } from "./read-json";

const tokenSchema = z.strictObject({ name: z.string().min(1).max(100).default("API token"), count: z.number().optional() });

function post(body: BodyInit | null, headers: Record<string, string> = { "content-type": "application/json" }): Request {
  return new Request("http://gantry.test/api/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);
}

/** The ApiError readJson throws (fails the test if it resolves or throws something else). */
async function refusal(req: Request, schema: z.ZodType = tokenSchema): Promise<ApiError> {
  const outcome = await readJson(req, schema).then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!("error" in outcome)) throw new Error(`expected a refusal, got ${JSON.stringify(outcome.value)}`);
  expect(outcome.error).toBeInstanceOf(ApiError);
  return outcome.error as ApiError;
}

/** A body stream that never ends on its own: it must be cut off, not buffered. */
function endless(chunkBytes = 64 * 1024): { stream: ReadableStream<Uint8Array>; sent: () => number } {
  let sent = 0;
  const chunk = new Uint8Array(chunkBytes).fill(0x20);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return { stream, sent: () => sent };
}

describe("readJson", () => {
  it("parses a valid body through the schema", async () => {
    expect(await readJson(post(JSON.stringify({ name: "laptop", count: 2 })), tokenSchema)).toEqual({ name: "laptop", count: 2 });
  });

  it("treats an empty body as {} (so schema defaults apply)", async () => {
    expect(await readJson(post(null), tokenSchema)).toEqual({ name: "API token" });
    expect(await readJson(post(""), tokenSchema)).toEqual({ name: "API token" });
  });

  it("accepts application/json with a charset and no content type at all", async () => {
    expect(await readJson(post('{"name":"a"}', { "content-type": "application/json; charset=utf-8" }), tokenSchema)).toEqual({ name: "a" });
    const noType = new Request("http://gantry.test/", { method: "POST", body: new Uint8Array(Buffer.from('{"name":"b"}')) });
    expect(await readJson(noType, tokenSchema)).toEqual({ name: "b" });
  });

  it.each(["{", "{name: 'x'}", "{\"name\":\"x\",}", "undefined", "NaN", "{\"a\":1}{\"b\":2}"])(
    "refuses malformed JSON %j as invalid_json (400)",
    async (body) => {
      const e = await refusal(post(body));
      expect([e.code, e.status, e.message]).toEqual(["invalid_json", 400, "The request body is not valid JSON."]);
    },
  );

  it.each([
    ["a lone continuation byte", [0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0x80, 0x22, 0x7d]],
    ["0xff", [0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]],
    ["a truncated sequence", [0x22, 0xe2, 0x82, 0x22]],
    ["an overlong encoding of '/'", [0x22, 0xc0, 0xaf, 0x22]],
    ["a UTF-16 surrogate", [0x22, 0xed, 0xa0, 0x80, 0x22]],
  ])("refuses invalid UTF-8 (%s) as invalid_encoding (400)", async (_name, bytes) => {
    const e = await refusal(post(new Uint8Array(bytes)));
    expect([e.code, e.status]).toEqual(["invalid_encoding", 400]);
  });

  it("accepts a body of exactly MAX_BODY_BYTES (1 MiB)", async () => {
    expect(MAX_BODY_BYTES).toBe(1024 * 1024);
    const prefix = '{"name":"x","pad":"';
    const body = prefix + "a".repeat(MAX_BODY_BYTES - prefix.length - 2) + '"}';
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    expect(await readJson(post(body), z.object({ name: z.string() }))).toEqual({ name: "x" });
  });

  it("refuses one byte more as payload_too_large (413)", async () => {
    const body = JSON.stringify({ name: "a".repeat(MAX_BODY_BYTES) });
    const e = await refusal(post(body));
    expect([e.code, e.status]).toEqual(["payload_too_large", 413]);
  });

  it("refuses a declared Content-Length over the limit before reading the body", async () => {
    const { stream, sent } = endless();
    const e = await refusal(post(stream, { "content-type": "application/json", "content-length": String(MAX_BODY_BYTES + 1) }));
    expect(e.code).toBe("payload_too_large");
    expect(sent()).toBeLessThanOrEqual(2 * 64 * 1024);
  });

  it("stops reading a body without Content-Length soon after the limit", async () => {
    const { stream, sent } = endless();
    const e = await refusal(post(stream));
    expect(e.code).toBe("payload_too_large");
    expect(sent()).toBeLessThan(MAX_BODY_BYTES + 4 * 64 * 1024);
  });

  it("refuses a non-JSON content type as unsupported_media_type (415)", async () => {
    const e = await refusal(post("name=x", { "content-type": "application/x-www-form-urlencoded" }));
    expect([e.code, e.status]).toEqual(["unsupported_media_type", 415]);
    expect((await refusal(post('{"name":"x"}', { "content-type": "text/plain" }))).code).toBe("unsupported_media_type");
  });

  it("refuses unknown fields of a strict object as validation_failed (422) naming the field", async () => {
    const e = await refusal(post(JSON.stringify({ name: "x", isAdmin: true })));
    expect([e.code, e.status]).toEqual(["validation_failed", 422]);
    expect(e.message).toBe("Unknown field: isAdmin");
    const two = await refusal(post(JSON.stringify({ name: "x", isAdmin: true, role: "admin" })));
    expect(two.message).toBe("Unknown fields: isAdmin, role");
  });

  it("names the offending field and lists it in details", async () => {
    const e = await refusal(post(JSON.stringify({ name: "" })));
    expect(e.code).toBe("validation_failed");
    expect(e.message).toMatch(/^name: /);
    expect(e.details).toEqual({ fields: ["name"] });
  });

  it.each([
    ["1e309 (Infinity)", '{"name":"x","count":1e309}'],
    ["-1e309", '{"name":"x","count":-1e309}'],
    ["a string", '{"name":"x","count":"3"}'],
    ["null", '{"name":"x","count":null}'],
  ])("refuses a number field given %s as validation_failed", async (_name, body) => {
    const e = await refusal(post(body));
    expect(e.code).toBe("validation_failed");
    expect(e.message).toMatch(/^count: /);
  });

  it.each([["[]"], ['"x"'], ["42"], ["null"]])("refuses the top-level JSON value %s as validation_failed", async (body) => {
    expect((await refusal(post(body))).code).toBe("validation_failed");
  });

  it("keeps at most five issues in the message", async () => {
    const schema = z.strictObject(Object.fromEntries("abcdefg".split("").map((k) => [k, z.number()])));
    const e = await refusal(post("{}"), schema);
    expect(e.message.split("; ")).toHaveLength(5);
  });
});
