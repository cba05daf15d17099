import type { HandlerSpec } from "../http";

/**
 * The success status, mirroring jsonHandler: `spec.status` when given, else 200 when there is a body
 * (a JSON response or the event stream), else 204 (the handler returns nothing).
 */
export function successStatus(spec: HandlerSpec<unknown, unknown, unknown, unknown>, streaming: boolean): number {
  return spec.status ?? (spec.response || streaming ? 200 : 204);
}
