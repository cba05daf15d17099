// Deployed, each format's routes share one Function URL: the host route's function gets every path and
// dispatches (wire/url-group.ts). Here the local runtime serves every route of a format with the host's
// handler, Lambda-faithfully (a client disconnect is invisible), as the deployed function would be
// invoked, and both SDKs use all their routes through it.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLocalServer, installAwsLambdaGlobal, type Logger } from "@conversation-api/local";
import { newCaller, type Caller } from "./clients";

let url = "";
let caller: Caller;
let close: () => Promise<void>;
const logs: string[] = [];

beforeAll(async () => {
  Object.assign(process.env, { DATA_DIR: "memory://", OFFLINE_TOKEN_DELAY_MS: "0", JWT_SECRET: "test-secret-that-is-at-least-32-characters-long" });
  installAwsLambdaGlobal();
  const { routes, shutdown } = await import("@conversation-api/functions");
  const hosted = routes.map((r) => (r.servedBy ? { ...r, load: routes.find((h) => h.name === r.servedBy)!.load } : r));
  const logger: Logger = { info: (m) => void logs.push(m), warn: (m) => void logs.push(m), error: (m) => void logs.push(m) };
  const server = createLocalServer({ routes: hosted, logger, hideDisconnects: true });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await shutdown();
  };
  // The first request opens the in-memory database: done here, not inside a test's time.
  caller = await newCaller(`${url}/api/v1`);
}, 120_000);
afterAll(() => close());

it("one function serves Anthropic's messages, count_tokens and models", async () => {
  const sdk = new Anthropic({ baseURL: `${url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
  const models = [];
  for await (const m of sdk.models.list()) models.push(m.id);
  expect(models.length).toBeGreaterThan(0);
  const model = models[0]!;
  const counted = await sdk.messages.countTokens({ model, messages: [{ role: "user", content: "Hi" }] });
  const final = await sdk.messages.stream({ model, max_tokens: 64, messages: [{ role: "user", content: "Hi" }] }).finalMessage();
  expect(final.usage.input_tokens).toBe(counted.input_tokens);
  // A method the format does not serve on a path it does: 405 from the host's guard.
  expect((await fetch(`${url}/anthropic/v1/models`, { method: "DELETE" })).status).toBe(405);
});

it("one function serves OpenAI's chat completions and models", async () => {
  const sdk = new OpenAI({ baseURL: `${url}/openai/v1`, apiKey: caller.key, maxRetries: 0 });
  const page = await sdk.models.list();
  const model = page.data[0]!.id;
  const stream = await sdk.chat.completions.create({ model, messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } });
  let text = "";
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? "";
    usage = c.usage ?? usage;
  }
  expect(text).toContain("Hi");
  expect(usage?.completion_tokens).toBeGreaterThan(0);
});
