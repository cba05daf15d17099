import type { ErrorType } from "./schemas/common";

const STATUS: Record<ErrorType, number> = {
  invalid_request_error: 400,
  validation_error: 422,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 503,
  timeout_error: 504,
};

export interface FieldError {
  path: string;
  message: string;
}

/**
 * Every failure the API reports. `expose` says whether `message` may be shown to the client;
 * anything else is rendered as a generic message so internals never leak.
 */
export class AppError extends Error {
  readonly status: number;
  readonly expose: boolean;
  readonly retryable: boolean;
  constructor(
    readonly type: ErrorType,
    message: string,
    opts: {
      status?: number;
      expose?: boolean;
      retryable?: boolean;
      fields?: FieldError[];
      retryAfter?: number;
      replyId?: string;
      /** Kept with a reply this error ended (its metadata), never sent in the error itself. */
      metadata?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = "AppError";
    this.status = opts.status ?? STATUS[type];
    this.expose = opts.expose ?? this.status < 500;
    this.retryable = opts.retryable ?? false;
    this.fields = opts.fields;
    this.retryAfter = opts.retryAfter;
    this.replyId = opts.replyId;
    this.metadata = opts.metadata;
  }
  readonly metadata: Record<string, unknown> | undefined;
  readonly fields: FieldError[] | undefined;
  readonly retryAfter: number | undefined;
  readonly replyId: string | undefined;
}

export const notFound = (what = "Resource") => new AppError("not_found_error", `${what} not found`);
export const unauthorized = (message = "Invalid or missing credentials") =>
  new AppError("authentication_error", message);
export const conflict = (message: string, replyId?: string) =>
  new AppError("conflict_error", message, replyId ? { replyId } : {});

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

export interface PublicError {
  status: number;
  type: ErrorType;
  message: string;
  fields?: FieldError[];
  retry_after?: number;
  reply_id?: string;
}

/**
 * The one place an error becomes what a client may see: the JSON error body and the SSE `error` event
 * are both built from this. Unknown errors and unsafe messages turn into a generic 500.
 */
export function toPublicError(e: unknown): PublicError {
  if (!isAppError(e)) return { status: 500, type: "api_error", message: "Internal server error" };
  const out: PublicError = {
    status: e.status,
    type: e.type,
    message: e.expose ? e.message : genericMessage(e.status),
  };
  if (e.fields) out.fields = e.fields;
  if (e.retryAfter !== undefined) out.retry_after = e.retryAfter;
  if (e.replyId) out.reply_id = e.replyId;
  return out;
}

const genericMessage = (status: number) =>
  status === 503 ? "Service temporarily overloaded" : status === 504 ? "Upstream timed out" : "Internal server error";

export function errorBody(e: PublicError, requestId: string) {
  const { status: _status, ...rest } = e;
  return { error: { ...rest, request_id: requestId } };
}
