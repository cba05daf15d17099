import type { HandlerSpec } from "../http";

type Spec = HandlerSpec<unknown, unknown, unknown, unknown>;

// What the shared middleware chain (src/middleware) answers, and when: the statuses follow from the
// parts of the spec that switch a middleware on, so the document cannot drift from the chain.
const DESCRIPTIONS: Record<number, string> = {
  400: "The body is not valid JSON",
  401: "Missing, malformed, expired or otherwise invalid bearer token",
  403: "Not allowed",
  404: "Not found; a malformed id is answered the same way",
  409: "Conflict with the current state",
  413: "The request body is larger than the configured limit",
  415: "Content-Type is not application/json",
  422: "Validation failed; `error.fields` names each failing field",
  429: "Rate limited; wait `error.retry_after` seconds (also in the Retry-After header)",
  500: "Internal error; the message is generic and `error.request_id` identifies it in the logs",
  503: "Upstream model provider overloaded",
  504: "Upstream model provider timed out",
  529: "Upstream model provider overloaded (Anthropic's status for it)",
};

/** Every error status an endpoint with this spec can answer, ascending. */
export function errorStatuses(spec: Spec): number[] {
  const out = new Set<number>([500, ...(spec.errors ?? [])]);
  if (spec.auth) out.add(401);
  if (spec.body) for (const s of [400, 413, 415, 422]) out.add(s);
  if (spec.params) out.add(404);
  if (spec.query) out.add(422);
  return [...out].sort((a, b) => a - b);
}

export function errorDescription(spec: Spec, status: number): string {
  // Without bearer auth a 401 can only come from the handler itself: a credentials check (login).
  if (status === 401 && !spec.auth) return "Wrong email or password";
  return DESCRIPTIONS[status] ?? `Error ${status}`;
}
