import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { LAMBDA_ERROR_BODY, normalizeHeaders, sendJson } from "./http-util";

/**
 * Writes a buffered handler's result the way API Gateway HTTP API (payload 2.0) maps it:
 * - an object with `statusCode` is a structured result (headers, cookies → Set-Cookie, base64 body);
 * - anything else (a string, an object without statusCode, a number, null) is the JSON body of a
 *   200 application/json response — a string is sent as-is, everything else JSON-serialised.
 * An invalid status code is a malformed integration response: 500, as API Gateway answers.
 * Returns false when the result was malformed.
 */
export function writeProxyResult(res: ServerResponse, result: unknown, extraHeaders: OutgoingHttpHeaders = {}): boolean {
  if (!isStructured(result)) {
    const body = typeof result === "string" ? result : JSON.stringify(result ?? null);
    send(res, 200, { ...extraHeaders, "content-type": "application/json" }, Buffer.from(body));
    return true;
  }
  const statusCode = result.statusCode ?? 200;
  if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    sendJson(res, 500, LAMBDA_ERROR_BODY, extraHeaders);
    return false;
  }
  const headers = { ...extraHeaders, ...normalizeHeaders(result.headers, result.cookies) };
  const body = result.body === undefined || result.body === null ? Buffer.alloc(0) : Buffer.from(String(result.body), result.isBase64Encoded ? "base64" : "utf8");
  send(res, statusCode, headers, body);
  return true;
}

function isStructured(result: unknown): result is APIGatewayProxyStructuredResultV2 {
  return typeof result === "object" && result !== null && "statusCode" in result;
}

function send(res: ServerResponse, statusCode: number, headers: OutgoingHttpHeaders, body: Buffer) {
  // 204 and 304 carry neither a body nor a Content-Length.
  const bodyless = statusCode === 204 || statusCode === 304;
  if (!bodyless) headers["content-length"] = body.length;
  res.writeHead(statusCode, headers);
  res.end(bodyless ? undefined : body);
}
