import { errorBody, toPublicError } from "@conversation-api/core";
import type { ErrorFormat } from "../http";
import type { ApiMiddleware, ApiRequest } from "./types";

/**
 * Turns any error into the structured JSON error response. Unexpected errors are logged with their stack
 * here and reach the client only as a generic 500.
 */
export const errorResponses = (format?: ErrorFormat): ApiMiddleware => ({
  onError: (request) => {
    const pub = toPublicError(request.error);
    if (pub.status >= 500) logError(request, request.error);
    const requestId = request.context.requestId ?? request.event.requestContext?.requestId ?? "unknown";
    const headers: Record<string, string> = {
      "content-type": "application/json",
      "cache-control": "no-store",
      "x-request-id": requestId,
    };
    if (pub.retry_after !== undefined) headers["retry-after"] = String(pub.retry_after);
    if (pub.status === 401) headers["www-authenticate"] = 'Bearer realm="conversation-api"';
    if (format) {
      const { status, body } = format.render(pub, requestId);
      request.response = { statusCode: status, headers, body: JSON.stringify(body) };
      return;
    }
    request.response = { statusCode: pub.status, headers, body: JSON.stringify(errorBody(pub, requestId)) };
  },
});

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
