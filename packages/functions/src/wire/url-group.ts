// One Function URL for a wire format's routes: a client has one base URL, and a Function URL answers
// every path. The host route's function serves its guests (routes whose `servedBy` names it) by
// dispatching on method and path to their handlers; anything else goes to the host's own handler,
// whose method guard answers for it. The local runtime serves each route from its own handler.
import { canStream } from "../http";
import { routeOf } from "../route-table";

type Handler = ((event: never, ...rest: never[]) => unknown) & { spec: { route: string } };

export function urlGroup<H extends Handler>(host: H, guests: Handler[]): H {
  const all = [host, ...guests].map((h) => ({ h, route: routeOf(h.spec.route) }));
  const dispatch = (event: { rawPath?: string; requestContext?: { http?: { method?: string } } }, ...rest: unknown[]) => {
    const method = event.requestContext?.http?.method;
    const target = all.find(({ route }) => route.path === event.rawPath && route.method === method)?.h ?? host;
    return (target as unknown as (...args: unknown[]) => unknown)(event, ...rest);
  };
  const awslambda = (globalThis as { awslambda?: { streamifyResponse: <F>(f: F) => F } }).awslambda;
  const out = canStream() ? awslambda!.streamifyResponse(dispatch) : dispatch;
  return Object.assign(out, { spec: host.spec }) as unknown as H;
}
