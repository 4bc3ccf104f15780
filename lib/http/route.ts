import { after, NextResponse, type NextRequest } from "next/server";
import { answering } from "../after-answer";
import { ApiError, isApiError } from "../errors";
import { resolveCaller, type Caller } from "../auth/caller";
import { isDashboardOrigin } from "./origin";
import { logWithReference } from "../backend/errors";

type Params = Record<string, string>;
type RouteContext = { params: Promise<Record<string, string | string[] | undefined>> };
export type Handler<C> = (req: NextRequest, ctx: C) => Promise<unknown>;

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function errorResponse(error: ApiError): NextResponse {
  const body: { error: { code: string; message: string; details?: unknown } } = {
    error: { code: error.code, message: error.message },
  };
  if (error.details) body.error.details = error.details;
  const headers: Record<string, string> = { "Cache-Control": "no-store" };
  // The rest of an oversized body was never read: the connection cannot carry another request.
  if (error.code === "payload_too_large") headers.Connection = "close";
  return NextResponse.json(body, { status: error.status, headers });
}

function toResponse(result: unknown): Response {
  if (result instanceof Response) return result;
  return NextResponse.json(result ?? null, { headers: { "Cache-Control": "no-store" } });
}

function translate(e: unknown): ApiError {
  if (isApiError(e)) return e;
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const text = `${err?.code ?? ""} ${err?.message ?? ""} ${err?.cause?.code ?? ""}`;
  // SQLite's busy timeout surfaces as SQLITE_BUSY, or as Prisma's P1008 "Operation has timed out".
  if (/SQLITE_BUSY|database is locked|Operation has timed out|P1008|P2034|SocketTimeout|timeout.*transaction/i.test(text)) {
    return new ApiError("database_busy", "The database is busy; nothing was changed. Try again in a moment.");
  }
  return new ApiError("internal", "Something went wrong on the server; nothing was changed if the action did not finish.");
}

async function run(fn: () => Promise<unknown>, req: NextRequest): Promise<Response> {
  try {
    // What the handler set off for after its answer (lib/after-answer.ts) runs once that answer is out.
    return toResponse(await answering(fn, after));
  } catch (e) {
    const apiError = translate(e);
    if (apiError.code !== "internal") return errorResponse(apiError);
    // The answer names a reference, the log line holds the error under it (lib/backend/errors.ts).
    const reference = logWithReference("request failed", e, { method: req.method, path: req.nextUrl.pathname });
    return errorResponse(new ApiError("internal", `Something went wrong on the server (reference ${reference}); nothing was changed if the action did not finish.`));
  }
}

// A cookie-authenticated state change must come from the dashboard's own origin (CSRF). Tokens are not sent
// by browsers on their own, so Bearer requests need no such check.
function checkOrigin(req: NextRequest): void {
  if (!STATE_CHANGING.has(req.method)) return;
  if (!isDashboardOrigin(req.headers.get("origin"), req.headers.get("host"), req.nextUrl.protocol)) {
    throw new ApiError("cross_origin", "This request must come from the Gantry dashboard itself (Origin check failed).");
  }
}

async function requireCaller(req: NextRequest): Promise<Caller> {
  const caller = await resolveCaller(req);
  if (!caller) throw new ApiError("unauthorized", "Sign in, or send a valid API token as 'Authorization: Bearer <token>'.");
  if (caller.via === "session") checkOrigin(req);
  return caller;
}

export type PublicContext = { params: Params };
export type UserContext = { params: Params; caller: Caller };

/** A route anyone may call. */
export function withPublic(handler: Handler<PublicContext>) {
  return (req: NextRequest, ctx: RouteContext) => run(async () => handler(req, { params: ((await ctx?.params) ?? {}) as Params }), req);
}

/** A route for any signed-in, enabled user (session cookie or API token). */
export function withUser(handler: Handler<UserContext>) {
  return (req: NextRequest, ctx: RouteContext) =>
    run(async () => {
      const caller = await requireCaller(req);
      return handler(req, { params: ((await ctx?.params) ?? {}) as Params, caller });
    }, req);
}

/** A route for admins only; everyone else signed in gets 403. */
export function withAdmin(handler: Handler<UserContext>) {
  return withUser(async (req, ctx) => {
    if (ctx.caller.role !== "admin") throw new ApiError("forbidden", "Only an admin can do this.");
    return handler(req, ctx);
  });
}

export function created(body: unknown): NextResponse {
  return NextResponse.json(body, { status: 201, headers: { "Cache-Control": "no-store" } });
}
