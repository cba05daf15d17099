// Reasoning models through the real app and the real groq-sdk against the loopback Groq server: the
// thinking block before the text, reasoning_effort passed through or refused, a retired model's 400
// turned into an error that says what to change, the model list, and counts from the right tokenizer.
import { countTokens } from "gpt-tokenizer/encoding/o200k_harmony";
import { MESSAGE_OVERHEAD_TOKENS, PROMPT_OVERHEAD_TOKENS, estimateTokens } from "@conversation-api/core";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { goneModel, reasoned, reply } from "../fixtures/groq-server";
import { call, readSse, registerUser, stream } from "../support/http";
import { GROQ_KEY, errorOf, names, newConversation, replies, startGroqApp, textOf, type GroqApp } from "./harness";

let h: GroqApp;
let api: string;
beforeAll(async () => {
  // qwen3.6 is out of the defaults (Groq may retire it); the loopback Groq lists it, so it may be allowed.
  h = await startGroqApp({ ALLOWED_MODELS: "openai/gpt-oss-20b,openai/gpt-oss-120b,qwen/qwen3.6-27b", MODEL_CONTEXT_WINDOWS: "openai/gpt-oss-120b=65536" });
  api = h.app.api;
});
afterAll(() => h.close());

const thinkingOf = (events: Awaited<ReturnType<typeof readSse>>) =>
  events.filter((e) => e.data?.delta?.type === "thinking_delta").map((e) => e.data.delta.thinking).join("");

describe("a reasoning reply", () => {
  it("streams the thinking block at index 0, then the text at index 1, and stores both with the reasoning tokens", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    const usage = { prompt_tokens: 30, completion_tokens: 20, completion_tokens_details: { reasoning_tokens: 12 } };
    h.groq.enqueue(reasoned(["Two plus ", "two is four."], ["It is ", "4."], usage));
    const events = await readSse(await stream(api, conv, token, { content: "2+2?" }));

    expect(names(events)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const blocks = events.filter((e) => e.event.startsWith("content_block")).map((e) => [e.event, e.data.index]);
    expect(blocks.map(([, i]) => i)).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(events[1]!.data.content_block).toEqual({ type: "thinking", thinking: "" });
    expect(events[5]!.data.content_block).toEqual({ type: "text", text: "" });
    expect(thinkingOf(events)).toBe("Two plus two is four.");
    expect(textOf(events)).toBe("It is 4.");
    expect(events.find((e) => e.event === "message_delta")!.data.usage).toEqual({ output_tokens: 20 });

    // Reasoning goes into its own field upstream; no effort is sent unless asked for.
    const sent = h.groq.requests.at(-1)!.body;
    expect(sent).toMatchObject({ model: "openai/gpt-oss-20b", include_reasoning: true });
    expect(sent).not.toHaveProperty("reasoning_effort");

    const [stored] = await replies(api, token, conv);
    expect(stored).toMatchObject({ content: "It is 4.", reasoning: "Two plus two is four.", token_count: 20, input_tokens: events[0]!.data.message.usage.input_tokens });
    expect(stored.metadata.usage).toMatchObject({ completion_tokens: 20, reasoning_tokens: 12 });

    // The next prompt carries the earlier answer, never its reasoning.
    h.groq.enqueue(reply(["ok"], { prompt_tokens: 1, completion_tokens: 1 }));
    await readSse(await stream(api, conv, token, { content: "and 3+3?" }));
    const prompt = h.groq.requests.at(-1)!.body.messages;
    expect(prompt).toEqual([
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "It is 4." },
      { role: "user", content: "and 3+3?" },
    ]);
    expect(JSON.stringify(h.groq.requests.at(-1)!.body)).not.toContain("two is four");
  });

  it("counts a reply without upstream usage with the model's tokenizer, reasoning included", async () => {
    const { token } = await registerUser(api);
    const gpt = await newConversation(api, token);
    const qwen = await newConversation(api, token, { model: "qwen/qwen3.6-27b" });
    const thoughts = ["The quick brown fox ", "jumps over the lazy dog."];
    const answer = ["Ünïcödé ", "answer, and more words here."];
    h.groq.enqueue(reasoned(thoughts, answer), reasoned(thoughts, answer));
    await readSse(await stream(api, gpt, token, { content: "count me" }));
    await readSse(await stream(api, qwen, token, { content: "count me" }));
    const [a] = await replies(api, token, gpt);
    const [b] = await replies(api, token, qwen);

    // gpt-oss: o200k; qwen3: the byte-based estimate (no well-kept tokenizer package for its vocabulary).
    const [thought, text] = [thoughts.join(""), answer.join("")];
    expect(a.token_count).toBe(countTokens(text) + countTokens(thought));
    // input_tokens: the prompt as counted when sent (a short prompt: the byte estimate), never recounted.
    expect(a.input_tokens).toBe(PROMPT_OVERHEAD_TOKENS + estimateTokens("count me") + MESSAGE_OVERHEAD_TOKENS);
    expect(b.token_count).toBe(estimateTokens(text) + estimateTokens(thought));
    expect(a.token_count).not.toBe(b.token_count);
    expect(a.metadata.usage_estimated).toBe(true);
  });
});

describe("reasoning_effort", () => {
  it("is passed through for a model that takes it, and a reply that does not reason keeps its text at index 0", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token, { model: "openai/gpt-oss-120b" });
    h.groq.enqueue(reasoned(["deep"], ["done"], { prompt_tokens: 1, completion_tokens: 2 }));
    await readSse(await stream(api, conv, token, { content: "think hard", reasoning_effort: "high" }));
    expect(h.groq.requests.at(-1)!.body).toMatchObject({ model: "openai/gpt-oss-120b", reasoning_effort: "high", include_reasoning: true });

    const qwen = await newConversation(api, token, { model: "qwen/qwen3.6-27b" });
    h.groq.enqueue(reply(["plain"], { prompt_tokens: 1, completion_tokens: 1 }));
    const events = await readSse(await stream(api, qwen, token, { content: "quick", reasoning_effort: "none" }));
    expect(h.groq.requests.at(-1)!.body).toMatchObject({ model: "qwen/qwen3.6-27b", reasoning_effort: "none" });
    expect(names(events)).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    expect(events.filter((e) => e.event.startsWith("content_block")).every((e) => e.data.index === 0)).toBe(true);
    expect(events[1]!.data.content_block).toEqual({ type: "text", text: "" });
    expect((await replies(api, token, qwen))[0].reasoning).toBe("");
  });

  it("is refused with 422 naming body.reasoning_effort for a model that does not take the value", async () => {
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    const seen = h.groq.requests.length;
    const refused = await stream(api, conv, token, { content: "x", reasoning_effort: "none" });
    expect(refused.status).toBe(422);
    const body = (await refused.json()) as any;
    expect(body.error.type).toBe("validation_error");
    expect(body.error.fields).toEqual([{ path: "body.reasoning_effort", message: "must be one of: low, medium, high" }]);

    const qwen = await newConversation(api, token, { model: "qwen/qwen3.6-27b" });
    const low = await stream(api, qwen, token, { content: "x", reasoning_effort: "low" });
    expect(low.status).toBe(422);
    expect(((await low.json()) as any).error.fields[0].path).toBe("body.reasoning_effort");
    const bogus = await stream(api, conv, token, { content: "x", reasoning_effort: "extreme" });
    expect(bogus.status).toBe(422);
    expect(h.groq.requests.length).toBe(seen);
  });
});

describe("a model Groq no longer serves", () => {
  for (const code of ["model_decommissioned", "model_not_found"] as const) {
    it(`turns ${code} into an error that names the model and the settings to change`, async () => {
      const { token } = await registerUser(api);
      const conv = await newConversation(api, token);
      h.groq.enqueue(goneModel("openai/gpt-oss-20b", code));
      const logged = vi.spyOn(console, "error").mockImplementation(() => {});
      const events = await readSse(await stream(api, conv, token, { content: "hi" }));
      const [stored] = await replies(api, token, conv);
      const logs = JSON.stringify(logged.mock.calls);
      logged.mockRestore();
      expect(logs).toContain("reply_failed");
      expect(logs).not.toContain(GROQ_KEY);
      const error = errorOf(events)!;
      expect(error.type).toBe("invalid_request_error");
      expect(error.message).toContain('"openai/gpt-oss-20b"');
      expect(error.message).toContain("DEFAULT_MODEL");
      expect(error.message).toContain("ALLOWED_MODELS");
      expect(JSON.stringify(events)).not.toContain(GROQ_KEY);
      expect(stored).toMatchObject({ finish_reason: "error", model: "openai/gpt-oss-20b" });
      expect(stored.metadata.error.type).toBe("invalid_request_error");
    });
  }
});

describe("GET /models", () => {
  it("lists the allowed models Groq serves, the default first, with Groq's window and cap, reasoning and efforts, without signing in", async () => {
    const r = await call(api, "GET", "/models");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      source: "groq",
      fetched_at: expect.any(String),
      data: [
        { id: "openai/gpt-oss-20b", context_window: 131072, max_output_tokens: 65536, reasoning: true, reasoning_efforts: ["low", "medium", "high"], server_tools: [], default: true },
        // Groq's figure, not MODEL_CONTEXT_WINDOWS: that only stands in for a window Groq does not give.
        { id: "openai/gpt-oss-120b", context_window: 131072, max_output_tokens: 65536, reasoning: true, reasoning_efforts: ["low", "medium", "high"], server_tools: [], default: false },
        { id: "qwen/qwen3.6-27b", context_window: 131072, max_output_tokens: 16384, reasoning: true, reasoning_efforts: ["none"], server_tools: [], default: false },
      ],
      unavailable: [],
    });
  });
});
