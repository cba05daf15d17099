// Clients written for Anthropic's Messages API work unchanged against {host}/anthropic with an API key:
// the official SDK, as its users write it, against the offline model (no GROQ_API_KEY).
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call } from "../support/http";
import { newCaller, usageByKind, type Caller } from "./clients";

let app: TestApp;
let caller: Caller;
let sdk: Anthropic;
const MODEL = "openai/gpt-oss-20b";

beforeAll(async () => {
  app = await startApp({ ALLOWED_MODELS: "openai/gpt-oss-20b,qwen/qwen3.8-27b" });
  caller = await newCaller(app.api);
  sdk = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
});
afterAll(() => app.close());

describe("@anthropic-ai/sdk at {host}/anthropic", () => {
  it("messages.create, not streamed: one message with the thinking and text blocks, stored nowhere", async () => {
    const before = (await call(app.api, "GET", "/conversations", { token: caller.token })).body.data.length;
    const msg = await sdk.messages.create({
      model: MODEL,
      max_tokens: 512,
      system: "Be brief.",
      messages: [
        { role: "user", content: "Hello" },
        { role: "assistant", content: "Hi." },
        { role: "user", content: [{ type: "text", text: "What is up?" }] },
      ],
    });
    expect(msg.type).toBe("message");
    expect(msg.role).toBe("assistant");
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.content.map((b) => b.type)).toEqual(["thinking", "text"]);
    const text = msg.content[1] as Anthropic.TextBlock;
    expect(text.text).toContain("What is up?");
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    expect((await call(app.api, "GET", "/conversations", { token: caller.token })).body.data.length).toBe(before);
  });

  it("messages.create streaming: the events the SDK reads, in order, with Anthropic's stop reason", async () => {
    const stream = await sdk.messages.create({ model: MODEL, max_tokens: 512, messages: [{ role: "user", content: "Stream please" }], stream: true });
    const types: string[] = [];
    let text = "";
    let thinking = "";
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === "content_block_delta" && e.delta.type === "text_delta") text += e.delta.text;
      if (e.type === "content_block_delta" && e.delta.type === "thinking_delta") thinking += e.delta.thinking;
      if (e.type === "message_delta") expect(e.delta.stop_reason).toBe("end_turn");
      if (e.type === "message_start") expect(e.message).not.toHaveProperty("conversation_id");
    }
    expect(types[0]).toBe("message_start");
    expect(types.at(-1)).toBe("message_stop");
    expect(text).toContain("Stream please");
    expect(thinking).not.toBe("");
  });

  it("messages.stream(...).finalMessage() accumulates the message; max_tokens stops it as max_tokens", async () => {
    const final = await sdk.messages.stream({ model: MODEL, max_tokens: 2, messages: [{ role: "user", content: "Hi" }] }).finalMessage();
    expect(final.stop_reason).toBe("max_tokens");
    expect(final.usage.output_tokens).toBe(2);
  });

  it("thinking blocks: a reasoning model's reasoning, and thinking disabled maps onto reasoning_effort none", async () => {
    const on = await sdk.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "Think" }],
    });
    expect(on.content[0]).toMatchObject({ type: "thinking" });
    expect((on.content[0] as Anthropic.ThinkingBlock).thinking).not.toBe("");
    const off = await sdk.messages.create({
      model: "qwen/qwen3.8-27b",
      max_tokens: 512,
      thinking: { type: "disabled" },
      messages: [{ role: "user", content: "Do not think" }],
    });
    expect(off.content.map((b) => b.type)).toEqual(["text"]);
  });

  it("messages.countTokens answers what message_start reports", async () => {
    const params = { model: MODEL, messages: [{ role: "user" as const, content: "Count me" }], system: "Be brief." };
    const counted = await sdk.messages.countTokens(params);
    const msg = await sdk.messages.create({ ...params, max_tokens: 64 });
    expect(counted.input_tokens).toBe(msg.usage.input_tokens);
  });

  it("models.list: the allowed models in Anthropic's list shape", async () => {
    const ids: string[] = [];
    for await (const m of sdk.models.list()) {
      expect(m.type).toBe("model");
      ids.push(m.id);
    }
    expect(ids.sort()).toEqual(["openai/gpt-oss-20b", "qwen/qwen3.8-27b"]);
  });

  it("an access token works as Authorization: Bearer", async () => {
    const bySession = new Anthropic({ baseURL: `${app.url}/anthropic`, authToken: caller.token, apiKey: null, maxRetries: 0 });
    const msg = await bySession.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] });
    expect(msg.type).toBe("message");
  });

  it("errors surface as the SDK's own classes, in Anthropic's shape, naming the field", async () => {
    const bad = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: "cak_not_a_key", maxRetries: 0 });
    const unauth = await bad.messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(unauth).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(unauth.status).toBe(401);
    expect(unauth.error).toMatchObject({ type: "error", error: { type: "authentication_error" } });

    const noMax = await sdk.messages.create({ model: MODEL, messages: [{ role: "user", content: "x" }] } as never).catch((e) => e);
    expect(noMax).toBeInstanceOf(Anthropic.BadRequestError);
    expect(noMax.error.error).toMatchObject({ type: "invalid_request_error", message: expect.stringContaining("max_tokens") });

    const model = await sdk.messages.create({ model: "claude-nope", max_tokens: 8, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(model).toBeInstanceOf(Anthropic.BadRequestError);
    expect(model.error.error.message).toContain("model");

    const image = await sdk.messages
      .create({ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x.invalid/a.png" } }] }] })
      .catch((e) => e);
    expect(image).toBeInstanceOf(Anthropic.BadRequestError);
    expect(image.error.error.message).toContain("messages.0.content");
  });

  it("bad input stores nothing and charges nothing", async () => {
    const fresh = await newCaller(app.api);
    const client = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: fresh.key, maxRetries: 0 });
    for (const body of [
      { model: MODEL, messages: [{ role: "user", content: "x" }] },
      { model: MODEL, max_tokens: 8, messages: [] },
      { model: MODEL, max_tokens: 8, messages: [{ role: "assistant", content: "x" }] },
      { model: MODEL, max_tokens: 8, temperature: 3, messages: [{ role: "user", content: "x" }] },
    ])
      expect(await client.messages.create(body as never).catch((e) => e)).toBeInstanceOf(Anthropic.BadRequestError);
    expect(await usageByKind(app.api, fresh.token)).toEqual({});
    expect((await call(app.api, "GET", "/conversations", { token: fresh.token })).body.data).toEqual([]);
  });

  it("a call is in the usage ledger, and only there", async () => {
    const fresh = await newCaller(app.api);
    const client = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: fresh.key, maxRetries: 0 });
    const msg = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [{ role: "user", content: "Ledger" }] });
    const usage = await usageByKind(app.api, fresh.token);
    expect(usage.call).toMatchObject({ input_tokens: msg.usage.input_tokens, output_tokens: msg.usage.output_tokens });
    expect((await call(app.api, "GET", "/conversations", { token: fresh.token })).body.data).toEqual([]);
  });
});
