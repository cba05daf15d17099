// One access record per request, after the response is decided: request id, route, status, duration,
// user id, and nothing else (no headers, no body, so never a credential). On Lambda the function's log
// format is JSON (stacks/defaults.ts), and its Node runtime turns `console.info(object)` into
// {"timestamp","level","requestId","message":{…}} with the object kept as JSON (aws-lambda-ric,
// LogPatch formatJsonMessage). The local runtime prints the same shape itself when ACCESS_LOG=1.
import type { ApiMiddleware, ApiRequest } from "./types";

export interface AccessRecord {
  type: "access";
  request_id: string;
  route: string;
  status: number;
  duration_ms: number;
  user_id: string | null;
}

export function accessRecord(request: ApiRequest): AccessRecord {
  const { event, context } = request;
  return {
    type: "access",
    request_id: context.requestId,
    route: event.routeKey && event.routeKey !== "$default" ? event.routeKey : `${event.requestContext?.http?.method ?? "?"} ${event.rawPath ?? "?"}`,
    status: request.response?.statusCode ?? 500,
    duration_ms: Math.round(performance.now() - (context.receivedAt ?? performance.now())),
    user_id: context.userId ?? null,
  };
}

export function writeAccessRecord(record: AccessRecord, env: NodeJS.ProcessEnv = process.env, awsRequestId?: string): void {
  if (env.AWS_LAMBDA_LOG_FORMAT === "JSON") console.info(record);
  else if (env.ACCESS_LOG === "1")
    process.stdout.write(`${JSON.stringify({ timestamp: new Date().toISOString(), level: "INFO", requestId: awsRequestId ?? record.request_id, message: record })}\n`);
}

/** First in the chain, so its after/onError run last, once the response (or the error response) is set. */
export const accessLog = (): ApiMiddleware => {
  const done = (request: ApiRequest) => {
    if (!request.context.requestId) return;
    const env = process.env;
    // The record is built only where it is written.
    if (env.AWS_LAMBDA_LOG_FORMAT === "JSON" || env.ACCESS_LOG === "1") writeAccessRecord(accessRecord(request), env, request.context.awsRequestId);
  };
  return { after: done, onError: done };
};
