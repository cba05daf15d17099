// Under `sst dev` the function runs where no `awslambda` streaming runtime exists. The stream handler
// must then answer with the whole SSE body at once instead of failing at import. This file's process
// never installs the global, as is the case there.
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openMemoryStore } from "../../../tests/support/pglite-image";
import { depsContext, depsSource } from "../src/deps";

// The handlers' dependencies, passed in each invocation's context as a runtime does.
const deps = depsSource(
  { DATA_DIR: "memory://", OFFLINE_TOKEN_DELAY_MS: "0", JWT_SECRET: "fallback-test-secret-of-at-least-32-chars" },
  { openStore: openMemoryStore },
);

type Invoke = (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode: number; headers?: Record<string, string>; body?: unknown }>;

function event(method: string, rawPath: string, body: unknown, token?: string): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: "",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: "localhost",
      domainPrefix: "localhost",
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
}

const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000, ...depsContext(deps) } as unknown as Context;
beforeAll(() => deps().then(() => {}));
afterAll(() => deps.close());

it("buffers the whole event stream when the streaming runtime is absent", async () => {
  expect((globalThis as { awslambda?: unknown }).awslambda).toBeUndefined();
  const register = (await import("../src/handlers/auth-register")).handler as unknown as Invoke;
  const create = (await import("../src/handlers/conversations-create")).handler as unknown as Invoke;
  const streamHandler = (await import("../src/handlers/messages-stream")).handler as unknown as Invoke;

  const reg = await register(event("POST", "/api/v1/auth/register", { email: "dev@example.com", password: "long-enough" }), context);
  const token = JSON.parse(String(reg.body)).access_token as string;
  const conv = JSON.parse(String((await create(event("POST", "/api/v1/conversations", {}, token), context)).body));

  const res = await streamHandler(event("POST", `/api/v1/conversations/${conv.id}/messages/stream`, { content: "hi" }, token), context);
  expect(res.statusCode).toBe(200);
  expect(res.headers?.["content-type"]).toMatch(/^text\/event-stream/);
  expect(typeof res.body).toBe("string");
  const names: string[] = [];
  const parser = createParser({ onEvent: (m: EventSourceMessage) => names.push(m.event ?? "message") });
  parser.feed(res.body as string);
  expect(names[0]).toBe("message_start");
  expect(names.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
});

it("buffers useChat's UI message stream, and answers its resume with 204 once the reply is whole", async () => {
  const register = (await import("../src/handlers/auth-register")).handler as unknown as Invoke;
  const chat = (await import("../src/handlers/chat-send")).handler as unknown as Invoke;
  const resume = (await import("../src/handlers/chat-resume")).handler as unknown as Invoke;
  const reg = await register(event("POST", "/api/v1/auth/register", { email: "dev-chat@example.com", password: "long-enough" }), context);
  const token = JSON.parse(String(reg.body)).access_token as string;
  const chatId = randomUUID();

  const body = { id: chatId, messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "hi" }] }], trigger: "submit-message" };
  const res = await chat(event("POST", "/api/v1/chat", body, token), context);
  expect(res.statusCode).toBe(200);
  expect(res.headers?.["x-vercel-ai-ui-message-stream"]).toBe("v1");
  const types: string[] = [];
  createParser({ onEvent: (m: EventSourceMessage) => types.push(m.data === "[DONE]" ? "[DONE]" : JSON.parse(m.data).type) }).feed(res.body as string);
  expect(types[0]).toBe("start");
  expect(types.slice(-3)).toEqual(["text-end", "finish", "[DONE]"]);

  const none = await resume(event("GET", `/api/v1/chat/${chatId}/stream`, undefined, token), context);
  expect(none.statusCode).toBe(204);
});
