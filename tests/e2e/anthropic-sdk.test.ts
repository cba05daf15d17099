// Clients written for Anthropic's Messages API must read our stream unchanged: the official SDK's
// MessageStream, fed our response through a custom fetch, accumulates the same thinking, text, stop
// reason and usage that we store. Without a key the offline model answers, and for a reasoning model
// (the default, gpt-oss) it plays a short reasoning phase first.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, registerUser } from "../support/http";

let app: TestApp;
beforeAll(async () => {
  // A qwen3 model (reasoning it can turn off) is allowed by configuration; the offline model answers under any name.
  app = await startApp({ ALLOWED_MODELS: "openai/gpt-oss-20b,qwen/qwen3.8-27b" });
});
afterAll(() => app.close());

/** Routes the SDK's POST /v1/messages to our stream endpoint for one conversation. */
function sdkFor(conversationId: string, token: string, extra: Record<string, unknown> = {}) {
  return new Anthropic({
    apiKey: "unused",
    baseURL: "http://sdk.invalid",
    maxRetries: 0,
    fetch: async (_url, init) => {
      const req = JSON.parse(String(init?.body));
      const last = req.messages.at(-1);
      return fetch(`${app.api}/conversations/${conversationId}/messages/stream`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ content: last.content, max_tokens: req.max_tokens, ...extra }),
      });
    },
  });
}

it("accumulates the thinking block and the text block the API stores", async () => {
  const { token } = await registerUser(app.api);
  const conv = (await call(app.api, "POST", "/conversations", { token })).body;
  const sdk = sdkFor(conv.id, token);

  const deltas: string[] = [];
  const thoughts: string[] = [];
  const stream = sdk.messages
    .stream({ model: "openai/gpt-oss-20b", max_tokens: 1024, messages: [{ role: "user", content: "Hi SDK" }] })
    .on("text", (t) => deltas.push(t))
    .on("thinking", (t) => thoughts.push(t));
  const final = await stream.finalMessage();

  const stored = (await call(app.api, "GET", `/conversations/${conv.id}/messages`, { token })).body.data[1];
  expect(final.id).toBe(stored.id);
  expect(final.role).toBe("assistant");
  expect(stored.reasoning).not.toBe("");
  expect(final.content).toHaveLength(2);
  expect(final.content[0]).toMatchObject({ type: "thinking", thinking: stored.reasoning });
  expect(final.content[1]).toMatchObject({ type: "text", text: stored.content });
  expect(thoughts.join("")).toBe(stored.reasoning);
  expect(deltas.join("")).toBe(stored.content);
  expect(final.stop_reason).toBe(stored.finish_reason);
  expect(final.usage.output_tokens).toBe(stored.token_count);
  expect(final.model).toBe(stored.model);
});

it("stops at max_tokens the way the SDK expects", async () => {
  const { token } = await registerUser(app.api);
  const conv = (await call(app.api, "POST", "/conversations", { token })).body;
  const final = await sdkFor(conv.id, token)
    .messages.stream({ model: "openai/gpt-oss-20b", max_tokens: 2, messages: [{ role: "user", content: "Hi" }] })
    .finalMessage();
  expect(final.stop_reason).toBe("max_tokens");
  expect(final.usage.output_tokens).toBe(2);
});

it("reads a reply without reasoning as one text block at index 0", async () => {
  const { token } = await registerUser(app.api);
  const conv = (await call(app.api, "POST", "/conversations", { token, body: { model: "qwen/qwen3.8-27b" } })).body;
  const final = await sdkFor(conv.id, token, { reasoning_effort: "none" })
    .messages.stream({ model: "qwen/qwen3.8-27b", max_tokens: 1024, messages: [{ role: "user", content: "Hi" }] })
    .finalMessage();
  const stored = (await call(app.api, "GET", `/conversations/${conv.id}/messages`, { token })).body.data[1];
  expect(stored.reasoning).toBe("");
  expect(final.content).toEqual([{ type: "text", text: stored.content }]);
});
