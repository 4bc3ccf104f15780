// A CSV file the browser saves rather than shows (Content-Disposition: attachment), never cached, never sniffed.

const SAFE_FILENAME = /^[A-Za-z0-9._-]+$/;

export function csvAttachment({ filename, text }: { filename: string; text: string }): Response {
  // The names are ours (dates and fixed words); anything else would need RFC 5987 encoding, so refuse it loudly.
  if (!SAFE_FILENAME.test(filename)) throw new Error(`unsafe CSV filename: ${filename}`);
  return new Response(text, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="${filename}"`,
      "Cache-Control": "no-store",
      "X-Content-Type-Options": "nosniff",
    },
  });
}
