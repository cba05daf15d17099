// Clients written for OpenAI's Chat Completions work unchanged against {host}/openai/v1 with an API
// key: the official SDK, as its users write it, against the offline model (no GROQ_API_KEY).
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call } from "../support/http";
import { newCaller, usageByKind, type Caller } from "./clients";

let app: TestApp;
let caller: Caller;
let sdk: OpenAI;
const MODEL = "openai/gpt-oss-20b";

beforeAll(async () => {
  app = await startApp({ ALLOWED_MODELS: "openai/gpt-oss-20b,qwen/qwen3.8-27b" });
  caller = await newCaller(app.api);
  sdk = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: caller.key, maxRetries: 0 });
});
afterAll(() => app.close());

describe("openai at {host}/openai/v1", () => {
  it("chat.completions.create, not streamed: one choice with the reply, its reasoning and usage", async () => {
    const r = await sdk.chat.completions.create({
      model: MODEL,
      max_completion_tokens: 512,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello" },
        { role: "assistant", content: "Hi." },
        { role: "user", content: "What is up?" },
      ],
    });
    expect(r.object).toBe("chat.completion");
    expect(r.choices).toHaveLength(1);
    expect(r.choices[0]!.finish_reason).toBe("stop");
    expect(r.choices[0]!.message.content).toContain("What is up?");
    expect((r.choices[0]!.message as { reasoning?: string }).reasoning).toBeTruthy();
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
  });

  it("chat.completions.create streaming: deltas with reasoning apart, usage in the last chunk", async () => {
    const stream = await sdk.chat.completions.create({
      model: MODEL,
      max_tokens: 512,
      messages: [{ role: "user", content: "Stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let reasoning = "";
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) {
      chunks.push(c);
      const d = c.choices[0]?.delta as { content?: string; reasoning?: string } | undefined;
      text += d?.content ?? "";
      reasoning += d?.reasoning ?? "";
    }
    expect(text).toContain("Stream please");
    expect(reasoning).not.toBe("");
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  });

  it("without include_usage no usage chunk; max_tokens stops it as length", async () => {
    const stream = await sdk.chat.completions.create({ model: MODEL, max_tokens: 2, messages: [{ role: "user", content: "Hi" }], stream: true });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const c of stream) chunks.push(c);
    expect(chunks.every((c) => c.usage === undefined || c.usage === null)).toBe(true);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("length");
  });

  it("models.list: the allowed models in OpenAI's list shape", async () => {
    const ids: string[] = [];
    for await (const m of sdk.models.list()) {
      expect(m.object).toBe("model");
      ids.push(m.id);
    }
    expect(ids.sort()).toEqual(["openai/gpt-oss-20b", "qwen/qwen3.8-27b"]);
  });

  it("errors surface as OpenAI.APIError with the right status, naming the field", async () => {
    const bad = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: "cak_not_a_key", maxRetries: 0 });
    const unauth = await bad.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(unauth).toBeInstanceOf(OpenAI.APIError);
    expect(unauth).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauth.status).toBe(401);

    const n = await sdk.chat.completions.create({ model: MODEL, n: 2, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(n).toBeInstanceOf(OpenAI.BadRequestError);
    expect(n.status).toBe(400);
    expect(n.param).toBe("n");
    expect(n.error).toMatchObject({ type: "invalid_request_error", message: expect.stringContaining("n = 1") });

    const effort = await sdk.chat.completions
      .create({ model: MODEL, reasoning_effort: "none" as never, messages: [{ role: "user", content: "x" }] })
      .catch((e) => e);
    expect(effort).toBeInstanceOf(OpenAI.BadRequestError);
    expect(effort.param).toBe("reasoning_effort");
  });

  it("bad input stores nothing and charges nothing", async () => {
    const fresh = await newCaller(app.api);
    const client = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: fresh.key, maxRetries: 0 });
    for (const body of [
      { model: MODEL, messages: [] },
      { model: MODEL, messages: [{ role: "system", content: "only a system prompt" }] },
      { model: MODEL, temperature: 5, messages: [{ role: "user", content: "x" }] },
      { model: MODEL, messages: [{ role: "tool", content: "x" }] },
      { messages: [{ role: "user", content: "x" }] },
    ])
      expect(await client.chat.completions.create(body as never).catch((e) => e)).toBeInstanceOf(OpenAI.BadRequestError);
    expect(await usageByKind(app.api, fresh.token)).toEqual({});
    expect((await call(app.api, "GET", "/conversations", { token: fresh.token })).body.data).toEqual([]);
  });
});
