// Deployed, each format's routes share one Function URL: the host route's function gets every method
// on every path and dispatches (wire/url-group.ts). Here the local runtime hands the host's handler every
// request a group's URL would get (its routes' paths with any method, and any path under the group's
// prefix), Lambda-faithfully (a client disconnect is invisible, no pathParameters), as the deployed
// function would be invoked: both SDKs and useChat's transport use all their routes through it, and what
// no route takes is refused in the group's own error shape.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { createLocalServer, installAwsLambdaGlobal, type LocalRoute, type Logger } from "@conversation-api/local";
import { send, transportFor, userMessage } from "../ui-stream/client";
import { newCaller, type Caller } from "./clients";

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
let url = "";
let caller: Caller;
let close: () => Promise<void>;
const logs: string[] = [];

beforeAll(async () => {
  Object.assign(process.env, { DATA_DIR: "memory://", OFFLINE_TOKEN_DELAY_MS: "0", JWT_SECRET: "test-secret-that-is-at-least-32-characters-long" });
  installAwsLambdaGlobal();
  const { routes, shutdown } = await import("@conversation-api/functions");
  // A group's URL, as its host's Function URL receives it: each route path with any method, and any
  // other path under the group's prefix.
  const groups = { "anthropic-messages": "/anthropic", "openai-chat-completions": "/openai", "chat-send": "/api/v1/chat" };
  const hosted: LocalRoute[] = routes.filter((r) => !r.streaming || !(r.name in groups || r.servedBy));
  for (const [name, prefix] of Object.entries(groups)) {
    const host = routes.find((r) => r.name === name)!;
    const paths = [...routes.filter((r) => r.name === name || r.servedBy === name).map((r) => r.path), `${prefix}/{proxy+}`];
    for (const path of paths) for (const method of METHODS) hosted.push({ ...host, method, path });
  }
  const logger: Logger = { info: (m) => void logs.push(m), warn: (m) => void logs.push(m), error: (m) => void logs.push(m) };
  // The first request opens the in-memory database inside a handler: on a loaded machine that can outlast
  // a buffered function's 30 s, and Middy would end it early; this test is not about that timeout.
  const server = createLocalServer({ routes: hosted, logger, hideDisconnects: true, timeoutMs: 300_000 });
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
});

/** A raw request to a group's URL: status, Allow and the JSON body. */
async function raw(method: string, path: string, init: { key?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (init.key) headers.authorization = `Bearer ${init.key}`;
  const r = await fetch(`${url}${path}`, { method, headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  return { status: r.status, allow: r.headers.get("allow"), body: (await r.json()) as Record<string, unknown> };
}

it("refuses, in Anthropic's error shape, a path none of its routes has and a method its path does not take", async () => {
  // Without the refusal a POST here would be a messages call: the body is a valid one.
  const unknown = await raw("POST", "/anthropic/v1/foo", { key: caller.key, body: { model: "m", max_tokens: 8, messages: [{ role: "user", content: "Hi" }] } });
  expect(unknown).toMatchObject({ status: 404, allow: null, body: { type: "error", error: { type: "not_found_error" } } });
  expect((unknown.body.error as { message: string }).message).toContain("/anthropic/v1/foo");
  const wrong = await raw("DELETE", "/anthropic/v1/models");
  expect(wrong).toMatchObject({ status: 405, allow: "GET", body: { type: "error", error: { type: "invalid_request_error" } } });
  expect((await raw("GET", "/anthropic/v1/messages/count_tokens")).allow).toBe("POST");
});

it("refuses, in OpenAI's error shape, a path none of its routes has and a method its path does not take", async () => {
  const unknown = await raw("POST", "/openai/v1/embeddings", { key: caller.key, body: { model: "m", input: "Hi" } });
  expect(unknown).toMatchObject({ status: 404, body: { error: { type: "invalid_request_error", code: "not_found", param: null } } });
  expect((unknown.body.error as { message: string }).message).toContain("/openai/v1/embeddings");
  const wrong = await raw("PUT", "/openai/v1/chat/completions");
  expect(wrong).toMatchObject({ status: 405, allow: "POST", body: { error: { type: "invalid_request_error", param: null, code: null } } });
});

it("one function serves useChat's send and the resume at its default URL", async () => {
  const transport = transportFor(`${url}/api/v1`, caller.token);
  const chatId = randomUUID();
  const sent = await send(transport, chatId, [userMessage("Hi")]);
  const chunks = [];
  for await (const c of sent) chunks.push(c);
  expect(chunks.at(-1)).toMatchObject({ type: "finish" });
  // `{api}/{id}/stream` reaches the resume on the send's URL: 204 (null) once the reply has ended,
  // where the send's handler would refuse a GET.
  expect(await transport.reconnectToStream({ chatId })).toBeNull();
  // The resume's own checks run: its credential, and its parameter read from the raw path.
  expect(await raw("GET", `/api/v1/chat/${chatId}/stream`)).toMatchObject({ status: 401, body: { error: { type: "authentication_error" } } });
  // Our own error shape on the chat's URL.
  const unknown = await raw("GET", `/api/v1/chat/${chatId}/replay`, { key: caller.key });
  expect(unknown).toMatchObject({ status: 404, body: { error: { type: "not_found_error", request_id: expect.any(String) } } });
  const wrong = await raw("DELETE", `/api/v1/chat/${chatId}/stream`);
  expect(wrong).toMatchObject({ status: 405, allow: "GET", body: { error: { type: "invalid_request_error" } } });
  expect((await raw("GET", "/api/v1/chat")).allow).toBe("POST");
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
