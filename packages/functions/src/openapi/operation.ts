import type { ResponseConfig, RouteConfig } from "@asteasolutions/zod-to-openapi";
import type { z } from "zod";
import type { HandlerSpec } from "../http";
import type { RouteDef } from "../route-types";
import { API_KEY, BEARER } from "./components";
import { errorDescription, errorStatuses } from "./error-statuses";
import { streamResponse } from "./stream";
import { successStatus } from "./success";

type Spec = HandlerSpec<unknown, unknown, unknown, unknown>;
type Params = NonNullable<RouteConfig["request"]>["params"];

export interface Shared {
  ErrorBody: z.ZodType;
  streamEvent: z.ZodType;
}

/** One route of the table, described from its handler's spec. */
export function operation(route: RouteDef, spec: Spec, shared: Shared): RouteConfig {
  // The handler's spec takes its auth and path from the routes table; a handler mounted on another
  // route's entry would be documented wrongly.
  if (spec.route !== route.name) throw new Error(`Route ${route.name}: its handler is declared for route ${spec.route}`);

  const headers = spec.headers;
  const request: NonNullable<RouteConfig["request"]> = {};
  if (spec.params) request.params = spec.params as Params;
  if (spec.query) request.query = spec.query as Params;
  if (headers) request.headers = headers as z.ZodObject;
  if (spec.body) request.body = { content: { "application/json": { schema: spec.body as z.ZodType, ...(spec.examples ? { examples: spec.examples } : {}) } } };

  const responses: Record<string, ResponseConfig> = { [successStatus(spec, route.streaming)]: success(spec, route, shared) };
  if (spec.noContent) responses[204] = { description: spec.noContent };
  // A wire format answers its own statuses, in its own error shape.
  const format = spec.errorFormat;
  const statuses = format ? [...new Set(errorStatuses(spec).map(format.statusOf))].sort((a, b) => a - b) : errorStatuses(spec);
  for (const status of statuses)
    responses[status] = { description: errorDescription(spec, status), content: { "application/json": { schema: format?.schema ?? shared.ErrorBody } } };

  return {
    method: route.method.toLowerCase() as RouteConfig["method"],
    path: route.path,
    operationId: route.name,
    summary: spec.summary,
    tags: [tagOf(route)],
    ...(spec.auth ? { security: spec.sessionOnly ? [{ [BEARER]: [] }] : [{ [BEARER]: [] }, { [API_KEY]: [] }] } : {}),
    ...(Object.keys(request).length ? { request } : {}),
    responses,
  };
}

/** Operations are grouped by the first word of the route name: auth-login → auth. */
export const tagOf = (route: Pick<RouteDef, "name">) => route.name.split("-")[0]!;

function success(spec: Spec, route: RouteDef, shared: Shared): ResponseConfig {
  // A wire format's route answers JSON, or its own event stream when the body asks for one.
  if (route.streaming && spec.response) {
    const content: NonNullable<ResponseConfig["content"]> = { "application/json": { schema: spec.response } };
    for (const [type, schema] of Object.entries(spec.representations ?? {})) content[type] = { schema };
    return { description: "OK: JSON, or with `stream: true` the format's event stream (docs/api.md)", content };
  }
  if (route.streaming)
    return spec.stream ? { description: spec.stream.description, content: { "text/event-stream": { schema: spec.stream.schema } } } : streamResponse(shared.streamEvent);
  if (!spec.response) return { description: "Done; no content" };
  const content: NonNullable<ResponseConfig["content"]> = { "application/json": { schema: spec.response } };
  for (const [type, schema] of Object.entries(spec.representations ?? {})) content[type] = { schema };
  return { description: "OK", content };
}
