import type http from "node:http";

/**
 * Streams a request body the way a real client does: chunk by chunk, waiting for "drain" when the socket is full.
 * Stops early (without ending the request) once the request is gone or `stop()` holds; otherwise ends it.
 */
export async function writeBody(req: http.ClientRequest, chunks: Iterable<Buffer>, stop: () => boolean = () => false): Promise<void> {
  for (const chunk of chunks) {
    if (req.destroyed || stop()) return;
    if (!req.write(chunk)) {
      await new Promise<void>((resolve) => {
        const go = () => {
          req.off("drain", go);
          req.off("close", go);
          resolve();
        };
        req.on("drain", go);
        req.on("close", go);
      });
    }
  }
  if (!req.destroyed) req.end();
}
