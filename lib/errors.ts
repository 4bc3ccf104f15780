// One error type for every failure a client should hear about, and one table from its code to the HTTP status.

export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_encoding: 400,
  unauthorized: 401,
  forbidden: 403,
  quota_exceeded: 403,
  cross_origin: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  no_gpu_available: 409,
  cuda_incompatible: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  too_many_requests: 429,
  internal: 500,
  docker_unavailable: 503,
  database_busy: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function notFound(what = "Not found"): ApiError {
  return new ApiError("not_found", what);
}

export function conflict(message: string, details?: Record<string, unknown>): ApiError {
  return new ApiError("conflict", message, details);
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}
