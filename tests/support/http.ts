import { createParser, type EventSourceMessage } from "eventsource-parser";

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A JSON request to the API; `body` may be a raw string to send malformed input. */
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: any;
}

/** Reads a whole event stream with a real SSE parser. */
export async function readSse(res: Response): Promise<SseEvent[]> {
  const events: SseEvent[] = [];
  for await (const e of sseEvents(res)) events.push(e);
  return events;
}

/** Yields each event as it arrives. */
export async function* sseEvents(res: Response): AsyncGenerator<SseEvent> {
  const queue: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (m) => queue.push(m) });
  const decoder = new TextDecoder();
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (queue.length) {
      const m = queue.shift()!;
      yield { id: m.id, event: m.event ?? "message", data: JSON.parse(m.data) };
    }
  }
}

export function stream(
  base: string,
  conversationId: string,
  token: string,
  body: unknown,
  opts: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Response> {
  return fetch(`${base}/conversations/${conversationId}/messages/stream`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...opts.headers },
    body: JSON.stringify(body),
    signal: opts.signal,
  });
}

let n = 0;
export async function registerUser(api: string, prefix = "user") {
  const email = `${prefix}-${process.pid}-${++n}@example.com`;
  const r = await call(api, "POST", "/auth/register", { body: { email, password: "correct horse battery" } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.access_token as string, user: r.body.user, email, password: "correct horse battery" };
}

/**
 * Consecutive deltas of a block as one (the last one's fields, the pieces joined): a replay from the
 * stored row sends a block's text or input in the pieces the flushes left, not as it streamed.
 */
export function mergedDeltas(events: SseEvent[]): SseEvent[] {
  const out: SseEvent[] = [];
  for (const e of events) {
    const last = out.at(-1);
    if (e.event === "content_block_delta" && last?.event === "content_block_delta" && last.data.index === e.data.index) {
      const key = Object.keys(e.data.delta).find((k) => k !== "type")!;
      out[out.length - 1] = { ...e, data: { ...e.data, delta: { ...e.data.delta, [key]: last.data.delta[key] + e.data.delta[key] } } };
    } else out.push(e);
  }
  return out;
}
