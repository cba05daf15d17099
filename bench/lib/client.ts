// The bench's HTTP client side: API calls for setup (untimed) and the two timed ways of getting a
// stream — through the app (our SSE) and from Groq directly with groq-sdk (the baseline).
import { createParser } from "eventsource-parser";
import Groq from "groq-sdk";
import { call } from "../../tests/support/http";
import { monotonicMs } from "./ipc";

export { call };

let users = 0;
export async function registerUser(api: string): Promise<string> {
  const email = `bench-${process.pid}-${++users}-${Date.now()}@example.com`;
  const r = await call(api, "POST", "/auth/register", { body: { email, password: "correct horse battery staple" } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.access_token as string;
}

export async function createConversation(api: string, token: string, title = "bench"): Promise<string> {
  const r = await call(api, "POST", "/conversations", { token, body: { title } });
  if (r.status !== 201) throw new Error(`create conversation failed: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id as string;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface StreamTiming {
  /** CLOCK_MONOTONIC ms just before the request (see monotonicMs). */
  startedAt: number;
  /** ms from just before the request to the first text token in hand. */
  ttft: number;
  /** ms from just before the request to the end of the stream. */
  total: number;
  /** ms from just before the request to the response head (the app sends it with message_start). */
  open?: number;
  tokens: number;
  ok: boolean;
  error?: string;
}

const DELTA = "event: content_block_delta\n";
const STOP = "event: message_stop\n";
const ERROR = "event: error\n";

/** Counts occurrences of a marker across chunk boundaries without keeping the whole body. */
class MarkerCounter {
  count = 0;
  private carry = "";
  constructor(private readonly marker: string) {}
  feed(text: string): number {
    const s = this.carry + text;
    let found = 0;
    for (let i = s.indexOf(this.marker); i !== -1; i = s.indexOf(this.marker, i + this.marker.length)) found++;
    this.count += found;
    this.carry = s.slice(-(this.marker.length - 1));
    return found;
  }
}

/** One reply through the app's stream endpoint, timed at the client. */
export async function streamViaApp(
  api: string,
  conversationId: string,
  token: string,
  content: string,
  opts: { timeoutMs?: number; onOpen?: () => void } = {},
): Promise<StreamTiming> {
  const startedAt = monotonicMs();
  const t0 = performance.now();
  let ttft = Number.NaN;
  const deltas = new MarkerCounter(DELTA);
  const stops = new MarkerCounter(STOP);
  const errors = new MarkerCounter(ERROR);
  try {
    const res = await fetch(`${api}/conversations/${conversationId}/messages/stream`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ content }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    if (res.status !== 200) {
      const text = await res.text();
      return { startedAt, ttft, total: performance.now() - t0, tokens: 0, ok: false, error: `HTTP ${res.status}: ${text.slice(0, 200)}` };
    }
    opts.onOpen?.();
    const open = performance.now() - t0;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      if (deltas.feed(text) > 0 && Number.isNaN(ttft)) ttft = performance.now() - t0;
      stops.feed(text);
      errors.feed(text);
    }
    const total = performance.now() - t0;
    const ok = stops.count === 1 && errors.count === 0;
    return { startedAt, ttft, total, open, tokens: deltas.count, ok, ...(ok ? {} : { error: errors.count ? "error event in stream" : "stream ended without message_stop" }) };
  } catch (e) {
    return { startedAt, ttft, total: performance.now() - t0, tokens: deltas.count, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

export function groqClient(baseURL: string): Groq {
  return new Groq({ apiKey: "gsk_bench", baseURL, maxRetries: 0 });
}

/** The baseline: the same answer straight from the Groq stand-in through groq-sdk, timed the same way. */
export async function streamViaGroqSdk(client: Groq, content: string): Promise<StreamTiming> {
  const startedAt = monotonicMs();
  const t0 = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  let finished = false;
  try {
    const stream = await client.chat.completions.create(
      { model: "llama-3.1-8b-instant", messages: [{ role: "user", content }], stream: true },
      { signal: AbortSignal.timeout(60_000) },
    );
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta?.content) {
        if (tokens++ === 0) ttft = performance.now() - t0;
      }
      if (choice?.finish_reason) finished = true;
    }
    return { startedAt, ttft, total: performance.now() - t0, tokens, ok: finished, ...(finished ? {} : { error: "no finish_reason" }) };
  } catch (e) {
    return { startedAt, ttft, total: performance.now() - t0, tokens, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
}

const UI_DELTA = '"type":"text-delta"';
const UI_FINISH = '"type":"finish"';
const UI_ERROR = '"type":"error"';

/** One reply through the reference (AI SDK UI message stream on Hono), timed the same way. */
export async function streamViaReference(url: string, content: string, opts: { timeoutMs?: number } = {}): Promise<StreamTiming> {
  const startedAt = monotonicMs();
  const t0 = performance.now();
  let ttft = Number.NaN;
  const deltas = new MarkerCounter(UI_DELTA);
  const finishes = new MarkerCounter(UI_FINISH);
  const errors = new MarkerCounter(UI_ERROR);
  try {
    const res = await fetch(`${url}/chat`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ content }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    if (res.status !== 200) return { startedAt, ttft, total: performance.now() - t0, tokens: 0, ok: false, error: `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}` };
    const open = performance.now() - t0;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const text = decoder.decode(chunk, { stream: true });
      if (deltas.feed(text) > 0 && Number.isNaN(ttft)) ttft = performance.now() - t0;
      finishes.feed(text);
      errors.feed(text);
    }
    const total = performance.now() - t0;
    const ok = finishes.count === 1 && errors.count === 0;
    return { startedAt, ttft, total, open, tokens: deltas.count, ok, ...(ok ? {} : { error: errors.count ? "error chunk in stream" : "stream ended without finish" }) };
  } catch (e) {
    return { startedAt, ttft, total: performance.now() - t0, tokens: deltas.count, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}

/**
 * One reply through the Portkey gateway (OpenAI chat-completions SSE; provider `groq` with a custom
 * host: the same Groq stand-in), timed the same way. Chunks are parsed as the direct call's groq-sdk
 * parses them, so both sides pay for reading the same JSON.
 */
export async function streamViaPortkey(url: string, groqUrl: string, content: string, opts: { timeoutMs?: number } = {}): Promise<StreamTiming> {
  const startedAt = monotonicMs();
  const t0 = performance.now();
  let ttft = Number.NaN;
  let tokens = 0;
  let finished = false;
  let failure: string | undefined;
  const parser = createParser({
    onEvent: (e) => {
      if (e.data === "[DONE]") return;
      const chunk = JSON.parse(e.data) as { choices?: { delta?: { content?: string }; finish_reason?: string | null }[]; error?: unknown };
      if (chunk.error) failure = JSON.stringify(chunk.error).slice(0, 200);
      const choice = chunk.choices?.[0];
      if (choice?.delta?.content && tokens++ === 0) ttft = performance.now() - t0;
      if (choice?.finish_reason) finished = true;
    },
  });
  try {
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: "Bearer gsk_bench",
        "x-portkey-provider": "groq",
        "x-portkey-custom-host": `${groqUrl}/openai/v1`,
      },
      body: JSON.stringify({ model: "llama-3.1-8b-instant", messages: [{ role: "user", content }], stream: true }),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    if (res.status !== 200) return { startedAt, ttft, total: performance.now() - t0, tokens: 0, ok: false, error: `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}` };
    const open = performance.now() - t0;
    const decoder = new TextDecoder();
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
    const total = performance.now() - t0;
    const ok = finished && !failure;
    return { startedAt, ttft, total, open, tokens, ok, ...(ok ? {} : { error: failure ?? "stream ended without finish_reason" }) };
  } catch (e) {
    return { startedAt, ttft, total: performance.now() - t0, tokens, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
  }
}
