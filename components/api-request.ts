// The browser side of Gantry's JSON API: same-origin fetch with the session cookie, and every failure turned into
// one readable sentence plus the names of the fields it was about (for aria-invalid and inline messages).

export type ApiFailure = { code: string; status: number; message: string; fields: string[] };
export type ApiResult<T> = { ok: true; data: T } | { ok: false; error: ApiFailure };

type ErrorBody = { error?: { code?: string; message?: string; details?: { fields?: unknown } } };

/** Maps API field names (e.g. "memoryGb") to the labels a person sees on the form (e.g. "Memory (GB)"). */
export type FieldLabels = Record<string, string>;

function humanize(message: string, labels: FieldLabels): string {
  // Validation messages read "field: problem; other: problem"; name the fields the way the form does.
  const parts = message.split("; ").map((part) => {
    const m = /^([A-Za-z0-9_.]+): (.*)$/.exec(part);
    if (!m) return part;
    const label = labels[m[1]] ?? labels[m[1].split(".").pop() ?? ""] ?? m[1];
    return `${label}: ${m[2]}`;
  });
  const text = parts.join("; ");
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function fallbackMessage(status: number): string {
  if (status === 401) return "Your session has ended. Sign in again to continue.";
  if (status === 403) return "You are not allowed to do this.";
  if (status === 404) return "It no longer exists; reload the page to see the current state.";
  if (status === 413) return "That is too large to send.";
  if (status === 429) return "Too many attempts. Wait a moment and try again.";
  if (status >= 500) return "Something went wrong on the server. Try again in a moment.";
  return `The request failed (HTTP ${status}).`;
}

export async function apiRequest<T = unknown>(
  path: string,
  init: { method?: string; body?: unknown; labels?: FieldLabels } = {},
): Promise<ApiResult<T>> {
  const { method = "GET", body, labels = {} } = init;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { accept: "application/json" } : { accept: "application/json", "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: { code: "network", status: 0, message: "Could not reach Gantry. Check your connection and try again.", fields: [] } };
  }
  if (res.ok) {
    const text = await res.text();
    return { ok: true, data: (text ? JSON.parse(text) : null) as T };
  }
  let parsed: ErrorBody = {};
  try {
    parsed = (await res.json()) as ErrorBody;
  } catch {
    // Not the API's error shape (a proxy in between, say): fall back to a sentence for the status.
  }
  const rawFields = parsed.error?.details?.fields;
  const fields = Array.isArray(rawFields) ? rawFields.filter((f): f is string => typeof f === "string") : [];
  const message = parsed.error?.message ? humanize(parsed.error.message, labels) : fallbackMessage(res.status);
  return { ok: false, error: { code: parsed.error?.code ?? "http_error", status: res.status, message, fields } };
}
