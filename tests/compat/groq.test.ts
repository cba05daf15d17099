// Both clients against the real groq-sdk path: the loopback Groq server answers, so what reaches Groq
// (messages, limits, sampling) and what comes back (reasoning, usage, failures) are checked end to end.
// And a call bound to a conversation (x-conversation-id), through each format: it is stored, resumes
// through the native endpoint, and cancels.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reasoned, reply, type Scenario } from "../fixtures/groq-server";
import { newConversation, messages, replies, startGroqApp, type GroqApp } from "../groq/harness";
import { captureConsoleErrors } from "../support/console";
import { call, readSse } from "../support/http";
import { newCaller, usageByKind, type Caller } from "./clients";

let h: GroqApp;
let caller: Caller;
let anthropic: Anthropic;
let openai: OpenAI;
const MODEL = "openai/gpt-oss-20b";
const usage = { prompt_tokens: 40, completion_tokens: 9, completion_tokens_details: { reasoning_tokens: 4 } };

beforeAll(async () => {
  // No retries: each upstream failure below is one scripted answer.
  h = await startGroqApp({ ALLOWED_MODELS: "openai/gpt-oss-20b,qwen/qwen3.6-27b", GROQ_MAX_RETRIES: "0" });
  caller = await newCaller(h.app.api);
  anthropic = new Anthropic({ baseURL: `${h.app.url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
  openai = new OpenAI({ baseURL: `${h.app.url}/openai/v1`, apiKey: caller.key, maxRetries: 0 });
});
afterAll(() => h.close());

/** A reply that stops after its first piece until `release` is called. */
function gated(first: string, rest: string): { scenario: Scenario; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  return { scenario: { steps: [{ text: first }, { until: gate }, { text: rest }, { finish: "stop", usage }, { done: true }] }, release };
}

describe("@anthropic-ai/sdk through Groq", () => {
  it("sends the prompt, the limit and the sampling settings, and reads thinking blocks and Groq's usage", async () => {
    h.groq.enqueue(reasoned(["Let me ", "see."], ["Four", "."], usage));
    const next = h.groq.nextRequest();
    const msg = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 300,
      system: [{ type: "text", text: "Be brief." }],
      // This SDK's types no longer list temperature and top_p; clients written for older ones send them.
      ...({ temperature: 0.5, top_p: 0.9 } as object),
      stop_sequences: ["END"],
      metadata: { user_id: "u-1" },
      thinking: { type: "enabled", budget_tokens: 20_000 },
      messages: [{ role: "user", content: "2+2?" }],
    });
    const sent = (await next).body;
    expect(sent.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "2+2?" },
    ]);
    expect(sent).toMatchObject({ max_completion_tokens: 300, temperature: 0.5, top_p: 0.9, stop: ["END"], reasoning_effort: "high" });
    expect(msg.content).toEqual([
      { type: "thinking", thinking: "Let me see.", signature: "" },
      { type: "text", text: "Four." },
    ]);
    expect(msg.usage.output_tokens).toBe(9);
  });

  it("streams thinking then text with messages.stream(), and an upstream failure is the SDK's error class", async () => {
    h.groq.enqueue(reasoned(["Hmm."], ["Hi", " there"], usage));
    const final = await anthropic.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: "user", content: "Hi" }] }).finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    expect((final.content[1] as Anthropic.TextBlock).text).toBe("Hi there");

    h.groq.enqueue({ status: 503, error: { message: "over capacity", type: "internal_server_error" } });
    const logged = captureConsoleErrors();
    const e = await anthropic.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: "user", content: "Hi" }] }).catch((x) => x);
    logged.restore();
    expect(logged.text()).toContain("reply_failed");
    // Anthropic's status for an overloaded upstream; the SDK's class for a 5xx.
    expect(e).toBeInstanceOf(Anthropic.InternalServerError);
    expect(e.status).toBe(529);
    expect(e.error).toEqual({ type: "error", error: { type: "overloaded_error", message: expect.any(String) } });
  });
});

describe("openai through Groq", () => {
  it("sends the prompt and settings, streams reasoning in delta.reasoning and Groq's usage in the last chunk", async () => {
    h.groq.enqueue(reasoned(["Think."], ["Fo", "ur"], usage));
    const next = h.groq.nextRequest();
    const s = await openai.chat.completions.create({
      model: MODEL,
      max_completion_tokens: 200,
      top_p: 0.5,
      stop: "END",
      user: "u-1",
      reasoning_effort: "low",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "2+2?" },
      ],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let reasoning = "";
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of s) {
      chunks.push(c);
      const d = c.choices[0]?.delta as { content?: string; reasoning?: string } | undefined;
      text += d?.content ?? "";
      reasoning += d?.reasoning ?? "";
    }
    expect((await next).body).toMatchObject({ max_completion_tokens: 200, top_p: 0.5, stop: ["END"], reasoning_effort: "low" });
    expect(text).toBe("Four");
    expect(reasoning).toBe("Think.");
    expect(chunks.at(-1)!.usage).toMatchObject({ completion_tokens: 9 });
  });

  it("a Groq 429 before the reply is OpenAI.APIError with status 429", async () => {
    h.groq.enqueue({ status: 429, headers: { "retry-after": "60" }, error: { message: "rate limited", type: "tokens", code: "rate_limit_exceeded" } });
    const logged = captureConsoleErrors();
    const e = await openai.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Hi" }] }).catch((x) => x);
    logged.restore();
    expect(logged.text()).toContain("reply_failed");
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(e.status).toBe(429);
  });
});

describe("a call bound to a conversation (x-conversation-id)", () => {
  it("stores the last user message and the reply; the prompt is the stored branch", async () => {
    const fresh = await newCaller(h.app.api);
    const conv = await newConversation(h.app.api, fresh.token);
    const client = new Anthropic({ baseURL: `${h.app.url}/anthropic`, apiKey: fresh.key, maxRetries: 0 });
    h.groq.enqueue(reply(["First answer."], usage));
    const first = await client.messages
      .create({ model: MODEL, max_tokens: 100, messages: [{ role: "user", content: "One" }] }, { headers: { "x-conversation-id": conv } })
      .withResponse();
    expect(first.response.headers.get("x-conversation-id")).toBe(conv);
    expect(first.response.headers.get("x-message-id")).toBe(first.data.id);

    const oa = new OpenAI({ baseURL: `${h.app.url}/openai/v1`, apiKey: fresh.key, maxRetries: 0 });
    h.groq.enqueue(reply(["Second answer."], usage));
    const next = h.groq.nextRequest();
    // The client's history is not the prompt: the stored branch is.
    const second = await oa.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "ignored" }, { role: "user", content: "Two" }] }, { headers: { "x-conversation-id": conv } })
      .withResponse();
    expect((await next).body.messages.filter((m: { role: string }) => m.role !== "system")).toEqual([
      { role: "user", content: "One" },
      { role: "assistant", content: "First answer." },
      { role: "user", content: "Two" },
    ]);
    const stored = await messages(h.app.api, fresh.token, conv);
    expect(stored.map((m) => [m.role, m.content])).toEqual([
      ["user", "One"],
      ["assistant", "First answer."],
      ["user", "Two"],
      ["assistant", "Second answer."],
    ]);
    expect(second.response.headers.get("x-message-id")).toBe(stored[3].id);
    expect(second.data.id).toBe(`chatcmpl-${stored[3].id}`);
    // A bound reply is a send: its usage is a reply's (and its title's), not a call's.
    expect(Object.keys(await usageByKind(h.app.api, fresh.token))).not.toContain("call");
  });

  it("a streamed Anthropic call resumes through the native endpoint", async () => {
    const conv = await newConversation(h.app.api, caller.token);
    const g = gated("Hello", " world");
    h.groq.enqueue(g.scenario);
    const { data: stream, response } = await anthropic.messages
      .create({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-conversation-id": conv } })
      .withResponse();
    const id = response.headers.get("x-message-id")!;
    const it = stream[Symbol.asyncIterator]();
    for (;;) {
      const e = (await it.next()).value as Anthropic.RawMessageStreamEvent;
      if (e.type === "message_start") expect(e.message.id).toBe(id);
      if (e.type === "content_block_delta") break;
    }
    // Another connection follows the same reply from its start.
    const resumed = fetch(`${h.app.api}/conversations/${conv}/messages/${id}/stream`, { headers: { authorization: `Bearer ${caller.token}` } }).then(readSse);
    g.release();
    let text = "Hello";
    let stop: string | null = null;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const e = r.value as Anthropic.RawMessageStreamEvent;
      if (e.type === "content_block_delta" && e.delta.type === "text_delta") text += e.delta.text;
      if (e.type === "message_delta") stop = e.delta.stop_reason;
    }
    expect(text).toBe("Hello world");
    expect(stop).toBe("end_turn");
    const events = await resumed;
    expect(events.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta.text).join("")).toBe("Hello world");
    expect((await replies(h.app.api, caller.token, conv))[0]).toMatchObject({ id, content: "Hello world", finish_reason: "end_turn" });
  });

  it("a streamed OpenAI call cancels through the native endpoint: the stream ends with stop, the reply is stored as cancelled", async () => {
    const conv = await newConversation(h.app.api, caller.token);
    const g = gated("Hello", " never");
    h.groq.enqueue(g.scenario);
    const { data: stream, response } = await openai.chat.completions
      .create({ model: MODEL, stream: true, messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-conversation-id": conv } })
      .withResponse();
    const id = response.headers.get("x-message-id")!;
    const it = stream[Symbol.asyncIterator]();
    let text = "";
    while (!text) text += (await it.next()).value?.choices[0]?.delta.content ?? "";
    const cancel = await call(h.app.api, "POST", `/conversations/${conv}/messages/${id}/cancel`, { token: caller.token });
    expect(cancel.status).toBe(202);
    let finish: string | null = null;
    for (let r = await it.next(); !r.done; r = await it.next()) finish = r.value.choices[0]?.finish_reason ?? finish;
    g.release();
    expect(finish).toBe("stop");
    expect((await replies(h.app.api, caller.token, conv))[0]).toMatchObject({ id, content: "Hello", finish_reason: "cancelled" });
  });
  it("a streamed Anthropic call cancels through the native endpoint: the stream ends with end_turn, the reply is stored as cancelled", async () => {
    const conv = await newConversation(h.app.api, caller.token);
    const g = gated("Hello", " never");
    h.groq.enqueue(g.scenario);
    const { data: stream, response } = await anthropic.messages
      .create({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-conversation-id": conv } })
      .withResponse();
    const id = response.headers.get("x-message-id")!;
    const it = stream[Symbol.asyncIterator]();
    for (;;) if (((await it.next()).value as Anthropic.RawMessageStreamEvent).type === "content_block_delta") break;
    expect((await call(h.app.api, "POST", `/conversations/${conv}/messages/${id}/cancel`, { token: caller.token })).status).toBe(202);
    let stop: string | null = null;
    for (let r = await it.next(); !r.done; r = await it.next()) if (r.value.type === "message_delta") stop = r.value.delta.stop_reason;
    g.release();
    expect(stop).toBe("end_turn");
    expect((await replies(h.app.api, caller.token, conv))[0]).toMatchObject({ id, content: "Hello", finish_reason: "cancelled" });
  });

  it("a streamed OpenAI call resumes through the native endpoint", async () => {
    const conv = await newConversation(h.app.api, caller.token);
    const g = gated("Hello", " world");
    h.groq.enqueue(g.scenario);
    const { data: stream, response } = await openai.chat.completions
      .create({ model: MODEL, stream: true, messages: [{ role: "user", content: "Hi" }] }, { headers: { "x-conversation-id": conv } })
      .withResponse();
    const id = response.headers.get("x-message-id")!;
    const it = stream[Symbol.asyncIterator]();
    let text = "";
    while (!text) text += (await it.next()).value?.choices[0]?.delta.content ?? "";
    const resumed = fetch(`${h.app.api}/conversations/${conv}/messages/${id}/stream`, { headers: { authorization: `Bearer ${caller.token}` } }).then(readSse);
    g.release();
    for (let r = await it.next(); !r.done; r = await it.next()) text += r.value.choices[0]?.delta.content ?? "";
    expect(text).toBe("Hello world");
    const events = await resumed;
    expect(events.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta.text).join("")).toBe("Hello world");
    expect((await replies(h.app.api, caller.token, conv))[0]).toMatchObject({ id, content: "Hello world", finish_reason: "end_turn" });
  });
});
