import { randomBytes, randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** Who is in front of the function: an API Gateway HTTP API route, or a Lambda Function URL. */
export type EventSource = "http-api" | "function-url";

export interface EventOptions {
  source?: EventSource;
  /** requestContext.requestId; fresh when omitted. */
  requestId?: string;
  /** Arrival time (ms since epoch); now when omitted. */
  now?: number;
  /**
   * A real Function URL event has no pathParameters (it has no routes). Set this to hand the matched
   * parameters to Function URL handlers anyway.
   */
  pathParametersOnFunctionUrl?: boolean;
}

const ACCOUNT_ID = "123456789012";
const API_ID = "local";

/**
 * Builds the payload-format-2.0 event API Gateway (or a Function URL) would deliver for this request.
 * `pathParameters` are the already-decoded values from the matched route.
 */
export function toApiGatewayEvent(
  req: IncomingMessage,
  body: Buffer,
  route: { method: string; path: string },
  pathParameters?: Record<string, string>,
  options: EventOptions = {},
): APIGatewayProxyEventV2 {
  const functionUrl = options.source === "function-url";
  const now = options.now ?? Date.now();
  const url = req.url ?? "/";
  const q = url.indexOf("?");
  const rawPath = q === -1 ? url : url.slice(0, q);
  const rawQueryString = q === -1 ? "" : url.slice(q + 1);
  const sourceIp = clientIp(req);
  const { headers, cookies } = collectHeaders(req, sourceIp);
  const host = headers.host ?? "localhost";
  const domainName = host.replace(/:\d+$/, "");
  const routeKey = functionUrl ? "$default" : `${route.method} ${route.path}`;

  const event: APIGatewayProxyEventV2 = {
    version: "2.0",
    routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: functionUrl ? "anonymous" : ACCOUNT_ID,
      apiId: API_ID,
      domainName,
      domainPrefix: domainName.split(".")[0] ?? domainName,
      http: {
        method: (req.method ?? "GET").toUpperCase(),
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: options.requestId ?? randomUUID(),
      routeKey,
      stage: "$default",
      time: clfTime(now),
      timeEpoch: now,
    },
    isBase64Encoded: false,
  };
  if (cookies.length > 0) event.cookies = cookies;
  const query = parseQuery(rawQueryString);
  if (query) event.queryStringParameters = query;
  if (pathParameters && Object.keys(pathParameters).length > 0 && (!functionUrl || options.pathParametersOnFunctionUrl)) {
    event.pathParameters = { ...pathParameters };
  }
  if (body.length > 0) {
    if (isTextual(headers["content-type"])) event.body = body.toString("utf8");
    else {
      event.body = body.toString("base64");
      event.isBase64Encoded = true;
    }
  }
  return event;
}

/**
 * Lower-cased headers with repeats joined by "," (API Gateway's rule, unlike Node's ", "), the Cookie
 * header moved out into `cookies`, and the X-Forwarded-* / trace headers the gateway adds.
 */
function collectHeaders(req: IncomingMessage, sourceIp: string) {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    if (name === "cookie") {
      for (const part of value.split(";")) {
        const c = part.trim();
        if (c) cookies.push(c);
      }
      continue;
    }
    const prev = headers[name];
    headers[name] = prev === undefined ? value : `${prev},${value}`;
  }
  const xff = headers["x-forwarded-for"];
  headers["x-forwarded-for"] = xff ? `${xff}, ${sourceIp}` : sourceIp;
  headers["x-forwarded-proto"] ??= "http";
  headers["x-forwarded-port"] ??= String(req.socket.localPort ?? "");
  headers["x-amzn-trace-id"] ??= `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomHex(12)}`;
  return { headers, cookies };
}

// Random bytes for trace ids, drawn from a pool: one call into the CSPRNG per few hundred requests
// instead of one per request.
let entropy = Buffer.alloc(0);
let used = 0;
function randomHex(bytes: number): string {
  if (used + bytes > entropy.length) {
    entropy = randomBytes(4096);
    used = 0;
  }
  used += bytes;
  return entropy.toString("hex", used - bytes, used);
}

/** Decoded query parameters with repeated names joined by ","; undefined when there are none. */
function parseQuery(raw: string): Record<string, string> | undefined {
  if (raw === "") return undefined;
  let out: Record<string, string> | undefined;
  for (const [key, value] of new URLSearchParams(raw)) {
    out ??= {};
    const prev = out[key];
    out[key] = prev === undefined ? value : `${prev},${value}`;
  }
  return out;
}

// Bodies of these types arrive as text; anything else (or no content type) is base64-encoded.
function isTextual(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return (
    type.startsWith("text/") ||
    type.endsWith("/json") ||
    type.endsWith("+json") ||
    type.endsWith("/xml") ||
    type.endsWith("+xml") ||
    type === "application/javascript" ||
    type === "application/yaml" ||
    type === "application/x-www-form-urlencoded" ||
    type === "application/graphql"
  );
}

function clientIp(req: IncomingMessage): string {
  const ip = req.socket.remoteAddress ?? "127.0.0.1";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number) => String(n).padStart(2, "0");

/** requestContext.time is in access-log format: 12/Mar/2020:19:03:58 +0000. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}
