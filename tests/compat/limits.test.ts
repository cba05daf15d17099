// A call that stores nothing is still held to the user's limits: it counts against the cap on
// streaming replies (MAX_CONCURRENT_REPLIES) alongside native sends, and against the daily budget.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { newConversation, startGroqApp, type GroqApp } from "../groq/harness";
import { stream } from "../support/http";
import { newCaller, usageByKind } from "./clients";

let h: GroqApp;
const MODEL = "openai/gpt-oss-20b";

beforeAll(async () => {
  h = await startGroqApp({ ALLOWED_MODELS: MODEL, GROQ_MAX_RETRIES: "0", MAX_CONCURRENT_REPLIES: "1", DAILY_TOKEN_BUDGET: "5000" });
});
afterAll(() => h.close());

it("an open call takes the one streaming slot: another call and a native send get 429 until it ends", async () => {
  const caller = await newCaller(h.app.api);
  const anthropic = new Anthropic({ baseURL: `${h.app.url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
  const openai = new OpenAI({ baseURL: `${h.app.url}/openai/v1`, apiKey: caller.key, maxRetries: 0 });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  h.groq.enqueue({ steps: [{ text: "Hel" }, { until: gate }, { text: "lo" }, { finish: "stop" }, { done: true }] });
  const open = await anthropic.messages.create({ model: MODEL, max_tokens: 100, stream: true, messages: [{ role: "user", content: "Hi" }] });
  const it = open[Symbol.asyncIterator]();
  for (;;) if ((await it.next()).value?.type === "content_block_delta") break;

  const second = await openai.chat.completions.create({ model: MODEL, max_tokens: 100, messages: [{ role: "user", content: "Hi" }] }).catch((e) => e);
  expect(second).toBeInstanceOf(OpenAI.RateLimitError);
  expect(second.message).toContain("most at once is 1");
  const conv = await newConversation(h.app.api, caller.token);
  const native = await stream(h.app.api, conv, caller.token, { content: "Hi", max_tokens: 100 });
  expect(native.status).toBe(429);

  release();
  for (let r = await it.next(); !r.done; r = await it.next());
  h.groq.enqueue(reply(["Again."]));
  const after = await openai.chat.completions.create({ model: MODEL, max_tokens: 100, messages: [{ role: "user", content: "Hi" }] });
  expect(after.choices[0]!.message.content).toBe("Again.");
});

it("a call whose worst case does not fit the day's budget is refused, charging nothing", async () => {
  const caller = await newCaller(h.app.api);
  const anthropic = new Anthropic({ baseURL: `${h.app.url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
  const e = await anthropic.messages.create({ model: MODEL, max_tokens: 6000, messages: [{ role: "user", content: "Hi" }] }).catch((x) => x);
  expect(e).toBeInstanceOf(Anthropic.RateLimitError);
  expect(e.error).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
  expect(e.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(await usageByKind(h.app.api, caller.token)).toEqual({});
});
