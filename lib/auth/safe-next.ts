/**
 * A post-login destination that stays on this site: a plain absolute path, or "/". Rejects "//evil",
 * "/\\evil", "https://other", control characters and anything a browser could read as another host.
 */
export function safeNextPath(value: string | null | undefined): string {
  if (!value || typeof value !== "string" || value.length > 2000) return "/";
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return "/";
  try {
    const url = new URL(value, "http://gantry.invalid");
    if (url.host !== "gantry.invalid") return "/";
    // Dot segments normalise away ("/.//evil" → "//evil"): check the result, not just the input.
    const path = url.pathname + url.search + url.hash;
    if (path.startsWith("//") || path.startsWith("/\\")) return "/";
    return path;
  } catch {
    return "/";
  }
}
