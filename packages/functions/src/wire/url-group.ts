// One Function URL for a group of routes: a client has one base URL (an SDK's, useChat's `api`), and a
// Function URL answers every method on every path. The host route's function serves its guests (routes
// whose `servedBy` names it) by dispatching on method and path template. The event passes on as the
// Function URL delivered it (no pathParameters: each handler reads its parameters from rawPath). What
// no route of the group matches is refused here, in the group's own error shape: 404 for a path none of
// them has, 405 with Allow for a method the path does not take. The local runtime serves each route
// from its own handler.
import middy from "@middy/core";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { randomUUID } from "node:crypto";
import { errorBody, type PublicError } from "@conversation-api/core";
import { canStream, type ErrorFormat } from "../http";
import { accessLog } from "../middleware/access-log";
import type { ApiContext, ApiMiddleware, ApiResult } from "../middleware/types";
import { compilePath } from "../path-template";
import { routeOf } from "../route-table";

type Handler = ((event: never, ...rest: never[]) => unknown) & { spec: { route: string; errorFormat?: ErrorFormat } };
type Fn = (...args: unknown[]) => unknown;
interface Member {
  fn: Fn;
  method: string;
  pattern: RegExp;
}

type Found = { fn: Fn } | { allow: string[] } | null;

/** The group's route for this request; else the methods its path takes (405), or null (404). */
function matchGroup(members: Member[], method: string | undefined, rawPath: string | undefined): Found {
  const onPath = members.filter((m) => rawPath !== undefined && m.pattern.test(rawPath));
  const hit = onPath.find((m) => m.method === method);
  if (hit) return { fn: hit.fn };
  return onPath.length ? { allow: [...new Set(onPath.map((m) => m.method))] } : null;
}

export function urlGroup<H extends Handler>(host: H, guests: Handler[]): H {
  const members: Member[] = [host, ...guests].map((h) => {
    const route = routeOf(h.spec.route);
    return { fn: h as unknown as Fn, method: route.method, pattern: compilePath(route.path).pattern };
  });
  const refuse = refusal(members, host.spec.errorFormat) as unknown as Fn;
  const dispatch = (event: APIGatewayProxyEventV2, ...rest: unknown[]) => {
    const found = matchGroup(members, event.requestContext?.http?.method, event.rawPath);
    return (found && "fn" in found ? found.fn : refuse)(event, ...rest);
  };
  const awslambda = (globalThis as { awslambda?: { streamifyResponse: <F>(f: F) => F } }).awslambda;
  const out = canStream() ? awslambda!.streamifyResponse(dispatch) : dispatch;
  return Object.assign(out, { spec: host.spec }) as unknown as H;
}

/** A request no route of the group takes. Nothing is opened for it (no database, no credential check). */
const refusalOf = (method: string, path: string, allow: string[] | undefined): PublicError =>
  allow
    ? { status: 405, type: "invalid_request_error", message: `Method ${method} not allowed on ${path}; use ${allow.join(", ")}` }
    : { status: 404, type: "not_found_error", message: `No route for ${method} ${path}` };

function refusal(members: Member[], format: ErrorFormat | undefined) {
  const stamp: ApiMiddleware = {
    before: (request) => {
      request.context.receivedAt = performance.now();
      request.context.requestId = request.event.requestContext?.requestId || randomUUID();
    },
  };
  return middy<APIGatewayProxyEventV2, ApiResult, Error, ApiContext>({ streamifyResponse: canStream() })
    .use([accessLog() as never, stamp as never])
    .handler(async (event, context): Promise<ApiResult> => {
      const method = event.requestContext?.http?.method ?? "?";
      const found = matchGroup(members, method, event.rawPath);
      const allow = found && "allow" in found ? found.allow : undefined;
      const pub = refusalOf(method, event.rawPath ?? "/", allow);
      const { status, body } = format ? format.render(pub, context.requestId) : { status: pub.status, body: errorBody(pub, context.requestId) };
      const headers: Record<string, string> = { "content-type": "application/json", "cache-control": "no-store", "x-request-id": context.requestId };
      if (allow) headers.allow = allow.join(", ");
      return { statusCode: status, headers, body: JSON.stringify(body) };
    });
}
