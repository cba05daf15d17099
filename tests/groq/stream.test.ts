// Streams that end well, through the real app and the real groq-sdk against the loopback Groq server:
// usage in either of Groq's shapes (or counted when absent), finish reasons, model choice, pings while
// the upstream is silent, context-window trimming and the usage report.
import { countTokens } from "gpt-tokenizer/encoding/o200k_harmony";
import { MESSAGE_OVERHEAD_TOKENS, PROMPT_OVERHEAD_TOKENS, estimateTokens } from "@conversation-api/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUEST_ID, TIMINGS, reply } from "../fixtures/groq-server";
import { captureConsoleErrors } from "../support/console";
import { call, readSse, registerUser, stream } from "../support/http";
import { GROQ_KEY, messages, names, newConversation, replies, startGroqApp, textOf, type GroqApp } from "./harness";

const BUDGET = 1000;
let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp({ PING_INTERVAL_MS: "50", CONTEXT_TOKEN_BUDGET: String(BUDGET) });
  api = h.app.api;
});
afterAll(() => h.close());

// gpt-oss (the default model) counts with o200k.
const tokens = (text: string) => countTokens(text);

describe("a normal stream", () => {
  it("reads Groq's body to its end after [DONE], so the connection stays open for the next request", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    // The body ends a moment after [DONE]: a reader that stopped at [DONE] would cancel it mid-way,
    // closing the connection (and, against Groq, costing the next request a TLS handshake).
    const answer = reply(["Hi"]);
    h.groq.enqueue({ steps: [...("steps" in answer ? answer.steps : []), { delay: 50 }] });
    const upstream = h.groq.nextRequest();
    expect(textOf(await readSse(await stream(api, conv, token, { content: "Hello" })))).toBe("Hi");
    expect((await (await upstream).closed).early).toBe(false);
  });

  it("relays Groq's deltas as the Anthropic sequence and stores usage, timings and request id from x_groq", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token, { system_prompt: "Be brief." });
    h.groq.enqueue(reply(["Hel", "lo", " world"], { prompt_tokens: 37, completion_tokens: 14, ...TIMINGS }));
    const res = await stream(api, conv, token, { content: "Say hello" });
    expect(res.status).toBe(200);
    const events = await readSse(res);

    expect(names(events)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const withIds = events.filter((e) => e.event !== "ping");
    // Ids encode the position (text offset * 8 + structural events so far), so they strictly increase.
    const ids = withIds.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(ids.length);
    expect(Math.floor(ids.at(-1)! / 8)).toBe("Hello world".length);
    expect(textOf(events)).toBe("Hello world");
    expect(events[0]!.data.message.model).toBe("openai/gpt-oss-20b");
    const delta = events.find((e) => e.event === "message_delta")!.data;
    expect(delta).toEqual({ type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 14 } });

    // What went upstream: the key as a bearer token, a streaming request with the system prompt first.
    const sent = h.groq.requests.at(-1)!;
    expect(sent.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(sent.body).toMatchObject({
      model: "openai/gpt-oss-20b",
      stream: true,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Say hello" },
      ],
    });

    const [stored] = await replies(api, token, conv);
    expect(stored).toMatchObject({
      id: events[0]!.data.message.id,
      content: "Hello world",
      finish_reason: "end_turn",
      token_count: 14,
      // The prompt as sent, as message_start announced it; Groq's own count stays in metadata.usage.
      input_tokens: events[0]!.data.message.usage.input_tokens,
      model: "openai/gpt-oss-20b",
    });
    expect(stored.metadata).toEqual({
      provider: "groq",
      upstream_request_id: REQUEST_ID,
      usage: { prompt_tokens: 37, completion_tokens: 14, total_tokens: 51, ...TIMINGS },
      usage_source: "x_groq",
      history_omitted: 0,
    });
  });

  it("takes usage from an OpenAI-style usage-only final chunk", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    h.groq.enqueue({
      steps: [{ text: "Hi" }, { finish: "stop" }, { usageChunk: { prompt_tokens: 20, completion_tokens: 3, ...TIMINGS } }, { done: true }],
    });
    const events = await readSse(await stream(api, conv, token, { content: "hi" }));
    expect(events.find((e) => e.event === "message_delta")!.data.usage.output_tokens).toBe(3);
    const [stored] = await replies(api, token, conv);
    expect(stored).toMatchObject({ content: "Hi", token_count: 3, input_tokens: events[0]!.data.message.usage.input_tokens });
    expect(stored.metadata).toMatchObject({ usage: { prompt_tokens: 20, completion_tokens: 3, total_tokens: 23 }, usage_source: "usage" });
    expect(stored.metadata.usage_estimated).toBeUndefined();
  });

  it("counts with the Llama 3 tokenizer and marks the figures estimated when Groq sends no usage", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    const pieces = ["Tokenizers ", "split ", "words", " like", " antidisestablishmentarianism."];
    h.groq.enqueue(reply(pieces));
    const events = await readSse(await stream(api, conv, token, { content: "count me" }));
    const text = pieces.join("");
    const output = events.find((e) => e.event === "message_delta")!.data.usage.output_tokens;
    expect(output).toBe(tokens(text));
    expect(output).not.toBe(pieces.length);
    const [stored] = await replies(api, token, conv);
    expect(stored.token_count).toBe(tokens(text));
    // input_tokens is one figure: the prompt as counted when it was sent (a short prompt is never
    // tokenized before the first token, so it is the byte estimate), in message_start and stored alike.
    expect(events[0]!.data.message.usage.input_tokens).toBe(PROMPT_OVERHEAD_TOKENS + estimateTokens("count me") + MESSAGE_OVERHEAD_TOKENS);
    expect(stored.input_tokens).toBe(events[0]!.data.message.usage.input_tokens);
    expect(stored.metadata).toMatchObject({ provider: "groq", usage_estimated: true });
  });

  it("maps finish_reason length to max_tokens and forwards max_tokens (as max_completion_tokens) and temperature", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    h.groq.enqueue(reply(["one", " two"], { prompt_tokens: 9, completion_tokens: 2 }, "length"));
    const events = await readSse(await stream(api, conv, token, { content: "count", max_tokens: 2, temperature: 0.3 }));
    expect(events.find((e) => e.event === "message_delta")!.data.delta.stop_reason).toBe("max_tokens");
    // groq-sdk marks max_tokens deprecated: the limit goes as max_completion_tokens, and only that way.
    expect(h.groq.requests.at(-1)!.body).toMatchObject({ max_completion_tokens: 2, temperature: 0.3 });
    expect(h.groq.requests.at(-1)!.body).not.toHaveProperty("max_tokens");
    expect((await replies(api, token, conv))[0].finish_reason).toBe("max_tokens");
  });
});

describe("model choice", () => {
  it("uses the conversation's model, lets the request name another allowed one, and refuses the rest with 422", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token, { model: "openai/gpt-oss-120b" });
    h.groq.enqueue(reply(["a"], { prompt_tokens: 1, completion_tokens: 1 }), reply(["b"], { prompt_tokens: 1, completion_tokens: 1 }));
    await readSse(await stream(api, conv, token, { content: "x" }));
    expect(h.groq.requests.at(-1)!.body.model).toBe("openai/gpt-oss-120b");
    const events = await readSse(await stream(api, conv, token, { content: "y", model: "openai/gpt-oss-20b" }));
    expect(h.groq.requests.at(-1)!.body.model).toBe("openai/gpt-oss-20b");
    expect(events[0]!.data.message.model).toBe("openai/gpt-oss-20b");
    expect((await replies(api, token, conv, 2)).map((m) => m.model)).toEqual(["openai/gpt-oss-120b", "openai/gpt-oss-20b"]);

    const seen = h.groq.requests.length;
    const refused = await stream(api, conv, token, { content: "z", model: "gpt-9000" });
    expect(refused.status).toBe(422);
    expect(((await refused.json()) as any).error).toMatchObject({ type: "validation_error", fields: [{ path: "body.model" }] });
    expect(h.groq.requests.length).toBe(seen);
  });
});

describe("pings", () => {
  it("sends ping events while the upstream is silent, before the first token and between tokens", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    h.groq.enqueue({ steps: [{ delay: 400 }, { text: "late" }, { delay: 400 }, { text: " again" }, { finish: "stop" }, { done: true }] });
    const events = await readSse(await stream(api, conv, token, { content: "take your time" }));
    const seq = events.map((e) => e.event);
    const first = seq.indexOf("content_block_delta");
    const second = seq.indexOf("content_block_delta", first + 1);
    expect(seq.slice(2, first)).toContain("ping");
    expect(seq.slice(first + 1, second)).toContain("ping");
    for (const p of events.filter((e) => e.event === "ping")) {
      expect(p.id).toBeUndefined();
      expect(p.data).toEqual({ type: "ping" });
    }
    expect(textOf(events)).toBe("late again");
  });
});

describe("context window", () => {
  it("sends the system prompt plus as many recent messages as fit the token budget, and records how many were left out", async () => {
    const { token } = await registerUser(api);
    const system = "You are a careful assistant.";
    const conv = await newConversation(api, token, { system_prompt: system });
    // Eight turns of ~60 + ~90 tokens each: far more than the 1000-token budget holds.
    for (let i = 0; i < 8; i++) {
      h.groq.enqueue(reply([`Reply ${i}: `, "the quick brown fox jumps over the lazy dog. ".repeat(9)], { prompt_tokens: 1, completion_tokens: 1 }));
      await readSse(await stream(api, conv, token, { content: `Question ${i}: ${"tell me about foxes and dogs please. ".repeat(7)}` }));
    }
    const history = await messages(api, token, conv);
    expect(history).toHaveLength(16);

    const content = "And finally?";
    h.groq.enqueue(reply(["Done."]));
    const events = await readSse(await stream(api, conv, token, { content }));
    const sent: { role: string; content: string }[] = h.groq.requests.at(-1)!.body.messages;
    const kept = sent.slice(1, -1);
    expect(sent[0]).toEqual({ role: "system", content: system });
    expect(sent.at(-1)).toEqual({ role: "user", content });

    // The kept messages are exactly the newest ones, whole.
    const omitted = history.length - kept.length;
    expect(omitted).toBeGreaterThan(0);
    expect(kept).toEqual(history.slice(omitted).map((m) => ({ role: m.role, content: m.content })));

    // Counted with the real Llama 3 tokenizer: they fit, and one more would not have.
    const cost = (text: string) => tokens(text) + MESSAGE_OVERHEAD_TOKENS;
    const used = PROMPT_OVERHEAD_TOKENS + cost(system) + cost(content) + kept.reduce((n, m) => n + cost(m.content), 0);
    expect(used).toBeLessThanOrEqual(BUDGET);
    expect(used + cost(history[omitted - 1]!.content)).toBeGreaterThan(BUDGET);
    expect(events[0]!.data.message.usage.input_tokens).toBe(used);

    const last = (await replies(api, token, conv, 9)).at(-1);
    expect(last.metadata.history_omitted).toBe(omitted);
  });
});

describe("usage report", () => {
  it("totals exactly what is stored for the caller's replies, by model and by day, and nobody else's", async () => {
    const { token } = await registerUser(api);
    const other = await registerUser(api);
    // Titled: no title calls, whose tokens the totals would count too (they have their own test).
    const conv = await newConversation(api, token, { title: "Usage" });
    const conv2 = await newConversation(api, token, { model: "openai/gpt-oss-120b", title: "Usage" });
    h.groq.enqueue(
      reply(["a"], { prompt_tokens: 40, completion_tokens: 7, ...TIMINGS }),
      reply(["b", "c"]), // no usage: counted, estimated
      { steps: [{ text: "partial" }, { drop: true }] }, // failed mid-stream
      { steps: [{ text: "x" }, { finish: "stop" }, { usageChunk: { prompt_tokens: 11, completion_tokens: 5 } }, { done: true }] },
      reply(["not mine"], { prompt_tokens: 1000, completion_tokens: 1000 }),
    );
    // The third reply fails mid-stream on purpose; its `reply_failed` log is captured, not printed.
    const logged = captureConsoleErrors();
    for (const c of [conv, conv, conv2, conv2]) await readSse(await stream(api, c, token, { content: "q" }));
    logged.restore();
    expect(logged.calls.filter((c) => String(c[0]).includes('"reply_failed"'))).toHaveLength(1);
    const otherConv = await newConversation(api, other.token);
    await readSse(await stream(api, otherConv, other.token, { content: "q" }));

    const stored = [...(await messages(api, token, conv)), ...(await messages(api, token, conv2))].filter((m) => m.role === "assistant");
    expect(stored).toHaveLength(4);
    const sum = (rows: any[], f: (m: any) => number) => rows.reduce((n, m) => n + f(m), 0);
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();

    const byModel = await call(api, "GET", `/usage?group_by=model&from=${from}&to=${to}`, { token });
    expect(byModel.status).toBe(200);
    const { mean_latency_ms: meanLatency, ...totals } = byModel.body.totals;
    expect(totals).toEqual({
      input_tokens: sum(stored, (m) => m.input_tokens ?? 0),
      output_tokens: sum(stored, (m) => m.token_count ?? 0),
      messages: 4,
      title_calls: 0,
    });
    expect(meanLatency).toBe(Math.round(sum(stored, (m) => m.latency_ms) / 4));
    expect(byModel.body.totals.input_tokens).toBeGreaterThanOrEqual(51);
    for (const model of ["openai/gpt-oss-20b", "openai/gpt-oss-120b"]) {
      const mine = stored.filter((m) => m.model === model);
      expect(byModel.body.data.find((r: any) => r.key === model)).toMatchObject({
        input_tokens: sum(mine, (m) => m.input_tokens ?? 0),
        output_tokens: sum(mine, (m) => m.token_count ?? 0),
        messages: 2,
        mean_latency_ms: Math.round(sum(mine, (m) => m.latency_ms) / 2),
      });
    }

    const byDay = await call(api, "GET", `/usage?group_by=day&from=${from}&to=${to}`, { token });
    expect(byDay.body.totals).toMatchObject(totals);
    const days = new Set(stored.map((m) => m.created_at.slice(0, 10)));
    expect(byDay.body.data.map((r: any) => r.key).sort()).toEqual([...days].sort());
  });
});
