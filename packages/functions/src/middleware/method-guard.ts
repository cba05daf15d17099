// A Function URL answers every method on every path; API Gateway routes only the declared ones. The
// streaming function refuses what its route does not declare, with 405 and Allow (CORS preflights
// never get here: the Function URL's CORS configuration answers OPTIONS itself).
import { errorBody } from "@conversation-api/core";
import { routeTable } from "../route-table";
import type { ApiMiddleware } from "./types";

export const methodGuard = (path: string): ApiMiddleware => {
  const allowed = routeTable.filter((r) => r.path === path).map((r) => r.method);
  return {
    before: (request) => {
      const method = request.event.requestContext?.http?.method;
      if (!method || allowed.includes(method as never)) return;
      const requestId = request.context.requestId;
      request.response = {
        statusCode: 405,
        headers: { "content-type": "application/json", "cache-control": "no-store", allow: allowed.join(", "), "x-request-id": requestId },
        body: JSON.stringify(errorBody({ status: 405, type: "invalid_request_error", message: `Method ${method} not allowed; use ${allowed.join(", ")}` }, requestId)),
      };
      return request.response;
    },
  };
};
