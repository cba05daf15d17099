import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";
import { REQUEST_HEADERS } from "../../functions/src/request-headers";

/**
 * CORS for local development (any origin, credentials allowed), so a browser app on another port can
 * call the local API. Deployed CORS is the API Gateway / Function URL configuration; both allow the same
 * request headers, so a browser app that sends one the API does not read fails here as it would there.
 */
export function corsHeaders(req: IncomingMessage): OutgoingHttpHeaders {
  const origin = req.headers.origin;
  if (!origin) return {};
  return { "access-control-allow-origin": origin, "access-control-allow-credentials": "true", vary: "Origin" };
}

export function writePreflight(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  res.writeHead(204, {
    "access-control-allow-origin": origin ?? "*",
    ...(origin ? { "access-control-allow-credentials": "true" } : {}),
    "access-control-allow-methods": "GET,POST,PUT,PATCH,DELETE,OPTIONS",
    "access-control-allow-headers": REQUEST_HEADERS.join(","),
    "access-control-max-age": "600",
    vary: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
  });
  res.end();
}
