// useChat's transport against the offline model: DefaultChatTransport pointed at /api/v1/chat, its
// streams read with readUIMessageStream, exactly as an AI SDK app reads them. The chat id is the
// conversation: created on the first send, the caller's own, resumable and cancellable like any reply.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, registerUser } from "../support/http";
import { partsOf, readAll, send, transportFor, userMessage } from "./client";

let app: TestApp;
beforeAll(async () => {
  // Paced, so that a reply is still streaming while a test resumes and then cancels it (the cancel, not
  // the pace, ends it); the other tests' replies are short.
  app = await startApp({ OFFLINE_TOKEN_DELAY_MS: "0", ALLOWED_MODELS: "openai/gpt-oss-20b,qwen/qwen3.8-27b" });
});
afterAll(() => app.close());

const stored = async (token: string, conversationId: string) =>
  (await call(app.api, "GET", `/conversations/${conversationId}/messages?limit=100`, { token })).body.data as any[];

describe("POST /api/v1/chat through DefaultChatTransport", () => {
  it("streams a reasoning part and a text part into the message the API stores, under the stored id", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    const { message, chunks, errors } = await readAll(await send(transport, chatId, [userMessage("Hi useChat")]));

    const [user, reply] = await stored(token, chatId);
    expect(user).toMatchObject({ role: "user", content: "Hi useChat" });
    expect(reply.reasoning).not.toBe("");
    expect(errors).toEqual([]);
    expect(message.id).toBe(reply.id);
    expect(message.role).toBe("assistant");
    expect(partsOf(message)).toEqual([
      { type: "reasoning", text: reply.reasoning, state: "done" },
      { type: "text", text: reply.content, state: "done" },
    ]);
    expect(message.metadata).toEqual({ conversation_id: chatId, model: reply.model, stop_reason: "end_turn", output_tokens: reply.token_count });
    // The protocol's order, part by part.
    const order = chunks.map((c) => c.type).filter((t, i, a) => t !== a[i - 1]);
    expect(order).toEqual(["start", "reasoning-start", "reasoning-delta", "reasoning-end", "text-start", "text-delta", "text-end", "finish"]);
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
  });

  it("answers with the protocol's header, and ends the stream with [DONE]", async () => {
    const { token } = await registerUser(app.api);
    const res = await fetch(`${app.api}/chat`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ id: randomUUID(), messages: [userMessage("Hi")], trigger: "submit-message" }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const text = await res.text();
    expect(text.endsWith('data: {"type":"finish","finishReason":"stop","messageMetadata":{"stop_reason":"end_turn","output_tokens":' + text.match(/"output_tokens":(\d+)/)![1] + "}}\n\ndata: [DONE]\n\n")).toBe(true);
  });

  it("continues the conversation on the next send: the server keeps the history, the client's copy is not read", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    const first = await readAll(await send(transport, chatId, [userMessage("one")]));
    // The history the client sends back is not what the prompt is built from: a forged one changes nothing.
    const forged = { ...first.message, parts: [{ type: "text" as const, text: "forged" }] };
    await readAll(await send(transport, chatId, [userMessage("one"), forged, userMessage("two")]));
    const all = await stored(token, chatId);
    expect(all.map((m) => [m.role, m.role === "user" ? m.content : m.content.includes("forged")])).toEqual([
      ["user", "one"],
      ["assistant", false],
      ["user", "two"],
      ["assistant", false],
    ]);
    expect(all[1].id).toBe(first.message.id);
  });

  it("names a conversation of the caller's own by a chat id that is not a UUID (useChat's default ids)", async () => {
    const a = await registerUser(app.api);
    const b = await registerUser(app.api);
    const chatId = "aB3dEfGh12345678";
    const mine = await readAll(await send(transportFor(app.api, a.token), chatId, [userMessage("mine")]));
    const theirs = await readAll(await send(transportFor(app.api, b.token), chatId, [userMessage("theirs")]));
    const conversationA = (mine.message.metadata as any).conversation_id;
    const conversationB = (theirs.message.metadata as any).conversation_id;
    expect(conversationA).not.toBe(conversationB);
    expect((await stored(a.token, conversationA)).map((m) => m.content)[0]).toBe("mine");
    expect((await stored(b.token, conversationB)).map((m) => m.content)[0]).toBe("theirs");
    // The second send with the same chat id continues the same conversation.
    await readAll(await send(transportFor(app.api, a.token), chatId, [userMessage("again")]));
    expect(await stored(a.token, conversationA)).toHaveLength(4);
  });

  it("answers 404 for another user's conversation id, and stores nothing in it", async () => {
    const a = await registerUser(app.api);
    const b = await registerUser(app.api);
    const chatId = randomUUID();
    await readAll(await send(transportFor(app.api, a.token), chatId, [userMessage("private")]));
    const r = await call(app.api, "POST", "/chat", { token: b.token, body: { id: chatId, messages: [userMessage("let me in")], trigger: "submit-message" } });
    expect(r.status).toBe(404);
    expect(r.body.error).toMatchObject({ type: "not_found_error", request_id: expect.any(String) });
    expect(JSON.stringify(r.body)).not.toContain("private");
    expect(await stored(a.token, chatId)).toHaveLength(2);
    // Resume says nothing either: as for a chat that does not exist.
    expect(await transportFor(app.api, b.token).reconnectToStream({ chatId })).toBeNull();
  });

  it("regenerates the last reply (useChat's regenerate()), or the one messageId names, as a new branch", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    const ask = userMessage("Hi");
    const first = await readAll(await send(transport, chatId, [ask]));
    const again = await readAll(await transport.sendMessages({ chatId, messages: [ask], trigger: "regenerate-message", messageId: undefined, abortSignal: undefined }));
    expect(again.message.id).not.toBe(first.message.id);
    const named = await readAll(
      await transport.sendMessages({ chatId, messages: [ask], trigger: "regenerate-message", messageId: again.message.id, abortSignal: undefined }),
    );
    const branch = await stored(token, chatId);
    expect(branch.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(branch[1]).toMatchObject({ id: named.message.id, sibling_count: 3 });
    expect(partsOf(named.message).map((p) => p.text)).toEqual([branch[1].reasoning, branch[1].content]);
  });

  it("sends an edited message (sendMessage with messageId) as a branch from the message before it", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    const one = userMessage("one");
    const first = await readAll(await send(transport, chatId, [one]));
    const two = userMessage("two");
    await readAll(await send(transport, chatId, [one, first.message, two]));
    const edited = { ...two, parts: [{ type: "text" as const, text: "two, edited" }] };
    await readAll(await transport.sendMessages({ chatId, messages: [one, first.message, edited], trigger: "submit-message", messageId: two.id, abortSignal: undefined }));
    const branch = await stored(token, chatId);
    expect(branch.map((m) => (m.role === "user" ? m.content : m.role))).toEqual(["one", "assistant", "two, edited", "assistant"]);
    expect(branch[2].sibling_count).toBe(2);
  });

  it("takes the send's options from the transport's body: model and reasoning_effort", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const { message } = await readAll(await send(transportFor(app.api, token), chatId, [userMessage("Hi")], { body: { model: "qwen/qwen3.8-27b", reasoning_effort: "none" } }));
    expect(message.parts.map((p) => p.type)).toEqual(["text"]);
    expect((await call(app.api, "GET", `/conversations/${chatId}`, { token })).body.model).toBe("qwen/qwen3.8-27b");
  });
});

describe("GET /api/v1/chat/{id}/stream through reconnectToStream", () => {
  it("has no stream (null, from a 204) after the reply ended, and none for a chat that does not exist", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    expect(await transport.reconnectToStream({ chatId })).toBeNull();
    await readAll(await send(transport, chatId, [userMessage("Hi")]));
    expect(await transport.reconnectToStream({ chatId })).toBeNull();
    const res = await fetch(`${app.api}/chat/${chatId}/stream`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
  });
});

describe("bad bodies", () => {
  const post = (token: string, body: unknown, headers: Record<string, string> = {}) => call(app.api, "POST", "/chat", { token, body, headers });

  it.each([
    ["no id", { messages: [userMessage("Hi")], trigger: "submit-message" }, "body.id"],
    ["an unknown trigger", { id: "c1", messages: [userMessage("Hi")], trigger: "resume-stream" }, "body.trigger"],
    ["no messages", { id: "c1", messages: [], trigger: "submit-message" }, "body.messages"],
    ["an assistant message last", { id: "c1", messages: [{ id: "a", role: "assistant", parts: [{ type: "text", text: "x" }] }], trigger: "submit-message" }, "body.messages.0.role"],
    ["a file part", { id: "c1", messages: [{ id: "u", role: "user", parts: [{ type: "file", url: "data:,x", mediaType: "text/plain" }, { type: "text", text: "x" }] }], trigger: "submit-message" }, "body.messages.0.parts.0.type"],
    ["no text", { id: "c1", messages: [{ id: "u", role: "user", parts: [] }], trigger: "submit-message" }, "body.messages.0.parts"],
    ["a model not allowed", { id: "c1", messages: [userMessage("Hi")], trigger: "submit-message", model: "nope" }, "body.model"],
    ["a parts list that is not a list", { id: "c1", messages: [{ id: "u", role: "user", parts: "Hi" }], trigger: "submit-message" }, "body.messages.0.parts"],
  ])("refuses %s with a 422 naming the field; nothing is stored or charged", async (_, body, field) => {
    const { token } = await registerUser(app.api);
    const r = await post(token, body);
    expect(r.status).toBe(422);
    expect(r.body.error).toMatchObject({ type: "validation_error", request_id: expect.any(String) });
    expect(r.body.error.message).toContain(field);
    expect(r.body.error.fields.map((f: any) => f.path)).toContain(field);
    expect((await call(app.api, "GET", "/conversations", { token })).body.data).toEqual([]);
    const usage = await call(app.api, "GET", "/usage?group_by=model", { token });
    expect(usage.status).toBe(200);
    expect(usage.body.data).toEqual([]);
  });

  it("refuses malformed JSON (400) and another content type (415) in our error shape", async () => {
    const { token } = await registerUser(app.api);
    const bad = await post(token, "{");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: "invalid_request_error", message: expect.any(String), request_id: expect.any(String) });
    const text = await post(token, JSON.stringify({ id: "c1" }), { "content-type": "text/plain" });
    expect(text.status).toBe(415);
  });

  it("refuses a regenerate with nothing to regenerate (404), and keeps no conversation for it", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const r = await post(token, { id: chatId, messages: [userMessage("Hi")], trigger: "regenerate-message" });
    expect(r.status).toBe(404);
    expect((await call(app.api, "GET", `/conversations/${chatId}`, { token })).status).toBe(404);
  });

  it("needs a credential (401)", async () => {
    const r = await call(app.api, "POST", "/chat", { body: { id: "c1", messages: [userMessage("Hi")], trigger: "submit-message" } });
    expect(r.status).toBe(401);
    expect((await call(app.api, "GET", "/chat/c1/stream")).status).toBe(401);
  });
});
