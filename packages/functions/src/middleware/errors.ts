import { AppError, errorBody, toPublicError } from "@conversation-api/core";
import type { ApiMiddleware, ApiRequest } from "./types";

/**
 * Turns any error into the structured JSON error response. Unexpected errors are logged with their stack
 * here and reach the client only as a generic 500.
 */
export const errorResponses = (): ApiMiddleware => ({
  onError: (request) => {
    const pub = toPublicError(fromMiddy(request.error));
    if (pub.status >= 500) logError(request, request.error);
    const requestId = request.context.requestId ?? request.event.requestContext?.requestId ?? "unknown";
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "cache-control": "no-store",
      "x-request-id": requestId,
    };
    if (pub.retry_after !== undefined) headers["retry-after"] = String(pub.retry_after);
    if (pub.status === 401) headers["www-authenticate"] = 'Bearer realm="conversation-api"';
    request.response = { statusCode: pub.status, headers, body: JSON.stringify(errorBody(pub, requestId)) };
  },
});

// Middy's own HTTP errors (from its body parser) carry a statusCode; give them our types and messages.
function fromMiddy(e: unknown): unknown {
  if (e instanceof AppError || !(e instanceof Error)) return e;
  const cause = (e as { cause?: { package?: string } }).cause;
  if (cause?.package === "@middy/http-json-body-parser") {
    return e.message === "Unsupported Media Type"
      ? new AppError("invalid_request_error", "Content-Type must be application/json", { status: 415 })
      : new AppError("invalid_request_error", "Request body is not valid JSON");
  }
  return e;
}

function logError(request: ApiRequest, e: unknown) {
  console.error(
    JSON.stringify({
      level: "error",
      request_id: request.context.requestId,
      route: request.event.routeKey,
      error: e instanceof Error ? { name: e.name, message: e.message, stack: e.stack, cause: String(e.cause ?? "") } : String(e),
    }),
  );
}
