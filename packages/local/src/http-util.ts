import type { OutgoingHttpHeaders, ServerResponse } from "node:http";

/** Writes a complete JSON response (used for errors the runtime itself produces). */
export function sendJson(res: ServerResponse, statusCode: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const payload = Buffer.from(JSON.stringify(body));
  res.writeHead(statusCode, { ...headers, "content-type": "application/json", "content-length": payload.length });
  res.end(payload);
}

/** The body Lambda integrations answer with when the function itself failed. */
export const LAMBDA_ERROR_BODY = { message: "Internal Server Error" } as const;

/** Header values as API Gateway / Function URLs accept them: strings, numbers, booleans; lower-cased names. */
export function normalizeHeaders(
  headers: Record<string, string | number | boolean | undefined> | undefined,
  cookies: readonly string[] | undefined,
): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  if (headers) {
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined && value !== null) out[name.toLowerCase()] = String(value);
    }
  }
  if (cookies && cookies.length > 0) {
    const existing = out["set-cookie"];
    out["set-cookie"] = existing === undefined ? [...cookies] : [String(existing), ...cookies];
  }
  return out;
}
