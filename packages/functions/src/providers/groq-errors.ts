// What a failed Groq call means to our clients. Messages are fixed strings chosen here: nothing from the
// upstream's body or headers (which could echo the API key) reaches a client.
import Groq from "groq-sdk";
import { AppError } from "@conversation-api/core";
import { retryAfterMs } from "./retry";

export function isRateLimited(e: unknown): e is InstanceType<typeof Groq.APIError> {
  return e instanceof Groq.APIError && (e.status === 429 || (e.status === undefined && inStreamKind(e) === "rate_limit"));
}

export function toAppError(e: unknown, model?: string): AppError {
  if (e instanceof AppError) return e;
  if (!(e instanceof Groq.APIError) || e instanceof Groq.APIConnectionError)
    return new AppError("api_error", "Lost the connection to the model provider", { status: 502, expose: true, cause: e });
  const status = e.status;
  if (status === undefined) return inStreamError(e);
  if (status === 429) {
    const ms = retryAfterMs(e.headers);
    const seconds = ms === null ? undefined : Math.ceil(ms / 1000);
    return new AppError(
      "rate_limit_error",
      seconds ? `The model provider is rate limiting requests; retry in ${seconds} s` : "The model provider is rate limiting requests",
      { expose: true, retryAfter: seconds, cause: e },
    );
  }
  // Our key was refused: the operator's problem, never the caller's, and the key stays out of it.
  if (status === 401 || status === 403)
    return new AppError("api_error", "The server's model provider credentials are misconfigured", { expose: true, cause: e });
  // A model Groq retired (400 model_decommissioned) or never had (404 model_not_found): the server's
  // configuration is out of date, and the operator needs to know which model and which setting.
  if (model !== undefined && isGoneModel(e))
    return new AppError(
      "invalid_request_error",
      `The model provider no longer serves the model "${model}"; change DEFAULT_MODEL and ALLOWED_MODELS to models it serves`,
      { status: 400, expose: true, cause: e },
    );
  if (status === 404)
    return new AppError("api_error", "The model is not available from the model provider", { status: 502, expose: true, cause: e });
  // The model wrote a call that does not parse or fit the tools (Groq's 400 tool_use_failed): the
  // reply failed, not the request, and what the model wrote is kept with the stored reply.
  const failed = toolUseFailed(e);
  if (failed !== null)
    return new AppError("api_error", "The model wrote a tool call that does not fit the tools offered", {
      status: 502,
      expose: true,
      cause: e,
      metadata: { failed_generation: failed.slice(0, MAX_FAILED_GENERATION) },
    });
  if (status === 400 || status === 413 || status === 422)
    return new AppError("invalid_request_error", "The model provider rejected the request", { status: 400, expose: true, cause: e });
  // 498 is Groq's "flex tier at capacity".
  if (status === 503 || status === 498)
    return new AppError("overloaded_error", "Upstream model is overloaded", { expose: true, cause: e });
  return new AppError("api_error", "The model provider failed", { status: 502, expose: true, cause: e });
}

/** Groq's codes for a retired or unknown model (https://console.groq.com/docs/errors). */
function isGoneModel(e: InstanceType<typeof Groq.APIError>): boolean {
  // An HTTP error's `error` is the whole body ({"error":{…,"code"}}); an in-stream one's is the inner object.
  const body = e.error as { code?: unknown; error?: { code?: unknown } } | undefined;
  const code = body?.error?.code ?? body?.code;
  return code === "model_decommissioned" || code === "model_not_found";
}

/** An error sent inside a 200 stream (`data: {"error": …}`): only its type/code says what it was. */
function inStreamError(e: InstanceType<typeof Groq.APIError>): AppError {
  switch (inStreamKind(e)) {
    case "rate_limit":
      return new AppError("rate_limit_error", "The model provider is rate limiting requests", { expose: true, cause: e });
    case "overloaded":
      return new AppError("overloaded_error", "Upstream model is overloaded", { expose: true, cause: e });
    default:
      return new AppError("api_error", "The model provider stopped the stream with an error", { status: 502, expose: true, cause: e });
  }
}

function inStreamKind(e: InstanceType<typeof Groq.APIError>): "rate_limit" | "overloaded" | "other" {
  const err = e.error as { type?: unknown; code?: unknown } | undefined;
  const tag = `${String(err?.type ?? "")} ${String(err?.code ?? "")}`;
  if (/rate_limit/.test(tag)) return "rate_limit";
  if (/overloaded|unavailable|capacity/.test(tag)) return "overloaded";
  return "other";
}

/** Keeps the stored reply's metadata well inside its 64 KiB. */
const MAX_FAILED_GENERATION = 16_000;

/** The model's failed generation of a 400 tool_use_failed, else null. */
function toolUseFailed(e: InstanceType<typeof Groq.APIError>): string | null {
  if (e.status !== 400) return null;
  const body = e.error as { error?: { code?: unknown; failed_generation?: unknown }; code?: unknown; failed_generation?: unknown } | undefined;
  const err = body?.error ?? body;
  if (err?.code !== "tool_use_failed") return null;
  return typeof err.failed_generation === "string" ? err.failed_generation : "";
}
