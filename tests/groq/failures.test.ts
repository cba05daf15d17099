// Every way a Groq stream can go wrong, through the real app and groq-sdk against the loopback server:
// rate limits (retried within bounds, never after text), upstream 5xx and 401, a dropped connection,
// both timeouts and a client that leaves. Each ends in the stream's `error` event (or, for the client,
// in silence) with whatever text was produced stored.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { reply, type Scenario } from "../fixtures/groq-server";
import { readSse, registerUser, sseEvents, stream, type SseEvent } from "../support/http";
import { captureConsoleErrors, quietLateTitleFailures } from "../support/console";
import { GROQ_KEY, errorOf, names, newConversation, replies, startGroqApp, textOf, type GroqApp } from "./harness";

let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp({
    GROQ_MAX_RETRIES: "2",
    GROQ_MAX_RETRY_WAIT_MS: "3000",
    FIRST_TOKEN_TIMEOUT_MS: "1500",
    IDLE_TIMEOUT_MS: "1000",
    PING_INTERVAL_MS: "60000",
  });
  api = h.app.api;
});
afterAll(() => h.close());

// Every failure here is logged as `reply_failed`: captured, so the run stays quiet and a test can read it.
let logged: ReturnType<typeof captureConsoleErrors>;
beforeEach(() => {
  logged = captureConsoleErrors();
});
afterEach(() => logged.restore());

beforeAll(() => quietLateTitleFailures());

const rateLimited = (retryAfter: string): Scenario => ({
  status: 429,
  headers: { "retry-after": retryAfter, "x-ratelimit-remaining-tokens": "0" },
  error: { message: "Rate limit reached for model", type: "tokens", code: "rate_limit_exceeded" },
});

/** One send in a fresh conversation; the events, the stored reply and how many upstream requests it took. */
async function send(...scenarios: Scenario[]) {
  const { token } = await registerUser(api);
  const conv = await newConversation(api, token);
  h.groq.enqueue(...scenarios);
  const before = h.groq.requests.length;
  const res = await stream(api, conv, token, { content: "hello" });
  expect(res.status).toBe(200);
  const events = await readSse(res);
  const [stored] = await replies(api, token, conv);
  return { events, stored, upstreamCalls: h.groq.requests.length - before };
}

function expectFailedStream(events: SseEvent[], type: string) {
  const seq = names(events);
  // A block opens with its first content (thinking or text), so a failure before any has none.
  expect(seq[0]).toBe("message_start");
  expect(seq.at(-1)).toBe("error");
  expect(seq).not.toContain("message_stop");
  expect(errorOf(events).type).toBe(type);
}

describe("rate limits (429)", () => {
  it("retries a 429 before the first token, honouring retry-after, then streams normally", async () => {
    const { events, stored, upstreamCalls } = await send(rateLimited("0.05"), reply(["fine"], { prompt_tokens: 5, completion_tokens: 1 }));
    expect(upstreamCalls).toBe(2);
    expect(names(events).slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(textOf(events)).toBe("fine");
    expect(stored).toMatchObject({ content: "fine", finish_reason: "end_turn", metadata: { retries: 1 } });
  });

  it("gives up after GROQ_MAX_RETRIES retries with rate_limit_error, storing an empty failed reply", async () => {
    const { events, stored, upstreamCalls } = await send(rateLimited("0"), rateLimited("0"), rateLimited("0"));
    expect(upstreamCalls).toBe(3);
    expectFailedStream(events, "rate_limit_error");
    expect(stored).toMatchObject({ content: "", finish_reason: "error", token_count: 0, input_tokens: null });
    expect(stored.metadata.error.type).toBe("rate_limit_error");
  });

  it("does not wait when retry-after exceeds GROQ_MAX_RETRY_WAIT_MS, and says when to come back", async () => {
    const { events, upstreamCalls } = await send(rateLimited("30"));
    expect(upstreamCalls).toBe(1);
    expectFailedStream(events, "rate_limit_error");
    expect(errorOf(events).message).toContain("30 s");
  });

  it("never retries once text has been sent: a rate-limit error mid-stream ends the stream, text kept", async () => {
    const { events, stored, upstreamCalls } = await send({
      steps: [{ text: "Half an ans" }, { delay: 30 }, { data: { error: { message: "Rate limit reached", type: "rate_limit_error", code: "rate_limit_exceeded" } } }],
    });
    expect(upstreamCalls).toBe(1);
    expect(textOf(events)).toBe("Half an ans");
    expectFailedStream(events, "rate_limit_error");
    expect(stored).toMatchObject({ content: "Half an ans", finish_reason: "error" });
  });
});

describe("upstream failures", () => {
  it("500 → api_error", async () => {
    const { events, stored, upstreamCalls } = await send({ status: 500, error: { message: "Internal Server Error", type: "internal_server_error" } });
    expect(upstreamCalls).toBe(1);
    expectFailedStream(events, "api_error");
    expect(stored).toMatchObject({ finish_reason: "error", content: "" });
  });

  it("503 → overloaded_error", async () => {
    const { events } = await send({ status: 503, error: { message: "Service Unavailable", type: "service_unavailable" } });
    expectFailedStream(events, "overloaded_error");
    expect(errorOf(events).message).toBe("Upstream model is overloaded");
  });

  it("401 → a server configuration error that never shows the key, not even when the upstream echoes it", async () => {
    const { events, stored } = await send({ status: 401, error: { message: `Invalid API Key ${GROQ_KEY}`, type: "invalid_request_error", code: "invalid_api_key" } });
    expectFailedStream(events, "api_error");
    expect(errorOf(events).message).toMatch(/server/i);
    const everything = JSON.stringify([events, stored, logged.calls]);
    expect(everything).toContain("reply_failed");
    expect(everything).not.toContain(GROQ_KEY);
    expect(everything).not.toContain("Invalid API Key");
  });

  it("a connection dropped mid-stream → error event, partial text stored", async () => {
    const { events, stored } = await send({ steps: [{ text: "Hel" }, { text: "lo" }, { delay: 150 }, { drop: true }] });
    expect(textOf(events)).toBe("Hello");
    expectFailedStream(events, "api_error");
    expect(stored).toMatchObject({ content: "Hello", finish_reason: "error", metadata: { usage_estimated: true } });
    expect(stored.token_count).toBeGreaterThan(0);
    expect(stored.input_tokens).toBeGreaterThan(0);
  });

  it("a stream that ends cleanly without a finish reason is an error, not an answer", async () => {
    const { events, stored } = await send({ steps: [{ text: "Cut" }] });
    expectFailedStream(events, "api_error");
    expect(stored).toMatchObject({ content: "Cut", finish_reason: "error" });
  });
});

describe("timeouts", () => {
  it("first-token timeout: aborts the upstream request, sends timeout_error", async () => {
    const closed = h.groq.nextRequest().then((r) => r.closed);
    const { events, stored } = await send({ steps: [{ hang: true }] });
    expect((await closed).early).toBe(true);
    expectFailedStream(events, "timeout_error");
    expect(stored).toMatchObject({ content: "", finish_reason: "error", ttft_ms: null });
  });

  it("idle timeout between tokens: aborts upstream, sends timeout_error, keeps the partial", async () => {
    const closed = h.groq.nextRequest().then((r) => r.closed);
    const { events, stored } = await send({ steps: [{ text: "So far" }, { hang: true }] });
    expect((await closed).early).toBe(true);
    expect(textOf(events)).toBe("So far");
    expectFailedStream(events, "timeout_error");
    expect(errorOf(events).message).toMatch(/stopped sending/);
    expect(stored).toMatchObject({ content: "So far", finish_reason: "error" });
  });
});

describe("client disconnect", () => {
  // A reply outlives its client by default (DISCONNECT_CANCELS=0), as it must on Lambda, which never
  // reports a disconnect: a reload picks it up. tests/groq/disconnect-cancels.test.ts covers the opt-in.
  it("does not stop the reply: the upstream runs to its end and the whole reply is stored", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    h.groq.enqueue({ steps: [{ text: "Hello" }, { text: " there" }, { delay: 300 }, { text: " again" }, { finish: "stop" }, { done: true }] });
    const upstream = h.groq.nextRequest();
    const client = new AbortController();
    const res = await stream(api, conv, token, { content: "talk" }, { signal: client.signal });
    let text = "";
    try {
      for await (const e of sseEvents(res)) {
        if (e.event === "content_block_delta") text += e.data.delta.text;
        if (text === "Hello there") client.abort();
      }
    } catch {
      // the aborted body read
    }
    expect((await (await upstream).closed).early).toBe(false);
    const [stored] = await replies(api, token, conv);
    expect(stored).toMatchObject({ content: "Hello there again", finish_reason: "end_turn" });
  });
});
