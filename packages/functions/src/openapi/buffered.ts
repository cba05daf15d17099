import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { errorBody, toPublicError } from "@conversation-api/core";
import type { BufferedHandler } from "../route-types";

export type Reply = APIGatewayProxyStructuredResultV2 & { headers?: Record<string, string> };

/**
 * For the endpoints that serve documentation: no body, no auth, no deps (so no database on a cold
 * start), hence no Middy chain. It keeps the API's conventions all the same: an `x-request-id` on every
 * response and errors as the JSON ErrorBody.
 */
export function bufferedHandler(fn: (event: APIGatewayProxyEventV2) => Promise<Reply>): BufferedHandler {
  return async (event) => {
    const requestId = event.requestContext?.requestId || randomUUID();
    let reply: Reply;
    try {
      reply = await fn(event);
    } catch (e) {
      const pub = toPublicError(e);
      if (pub.status >= 500) console.error(JSON.stringify({ level: "error", request_id: requestId, route: event.routeKey, error: String(e) }));
      reply = { statusCode: pub.status, headers: { "content-type": "application/json", "cache-control": "no-store" }, body: JSON.stringify(errorBody(pub, requestId)) };
    }
    return { ...reply, headers: { ...reply.headers, "x-content-type-options": "nosniff", "x-request-id": requestId } };
  };
}
