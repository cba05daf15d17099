// useChat's transport against real groq-sdk and the loopback Groq server: a reasoning model's reply
// read with readUIMessageStream; reconnectToStream while the reply streams (the model held by a
// handshake, not a delay) and after it; the stop button's cancel; a failure as the protocol's error part.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { reasoned, reply, type Step } from "../fixtures/groq-server";
import { DURABLE_ENV, gated } from "../durable/scenarios";
import { startGroqApp, type GroqApp } from "../groq/harness";
import { captureConsoleErrors } from "../support/console";
import { call, registerUser } from "../support/http";
import { deltasOf, partsOf, readAll, reading, send, transportFor, userMessage } from "./client";

let g: GroqApp;
beforeAll(async () => {
  g = await startGroqApp(DURABLE_ENV);
});
afterAll(() => g.close());

const stored = async (token: string, conversationId: string) =>
  (await call(g.app.api, "GET", `/conversations/${conversationId}/messages?limit=100`, { token })).body.data as any[];

it("streams the model's reasoning and text into one message with a reasoning part and a text part", async () => {
  const { token } = await registerUser(g.app.api);
  const chatId = randomUUID();
  g.groq.enqueue(reasoned(["Let me ", "think."], ["Hello", " from", " Groq."], { prompt_tokens: 9, completion_tokens: 5 }));
  const { message, errors } = await readAll(await send(transportFor(g.app.api, token), chatId, [userMessage("Hi")]));
  expect(errors).toEqual([]);
  expect(partsOf(message)).toEqual([
    { type: "reasoning", text: "Let me think.", state: "done" },
    { type: "text", text: "Hello from Groq.", state: "done" },
  ]);
  const [, stored1] = await stored(token, chatId);
  expect(stored1).toMatchObject({ id: message.id, reasoning: "Let me think.", content: "Hello from Groq.", finish_reason: "end_turn", token_count: 5 });
  // The upstream request is the stored prompt: the user's text, once.
  const sent = g.groq.requests.at(-1)!.body.messages;
  expect(sent.at(-1)).toEqual({ role: "user", content: "Hi" });
});

it("resumes a reply that is streaming from its start (reconnectToStream), and has none to resume once it ended", async () => {
  const { token } = await registerUser(g.app.api);
  const chatId = randomUUID();
  const transport = transportFor(g.app.api, token);
  const pieces = ["one ", "two ", "three ", "four"];
  // The model holds after two pieces until the resumed stream has shown them.
  const { scenario, release } = gated(reasoned(["Hmm."], pieces) as { steps: Step[] }, 2);
  g.groq.enqueue(scenario);
  try {
    const live = reading(await send(transport, chatId, [userMessage("Count")]));
    await live.until((c) => deltasOf(c).length === 2, "two text deltas");
    const resumedStream = await transport.reconnectToStream({ chatId });
    expect(resumedStream).not.toBeNull();
    const resumed = reading(resumedStream!);
    // From its start: the reasoning and the text so far, once the producer's flush has stored them.
    await resumed.until((c) => deltasOf(c).join("") === "one two ", "the stored text so far");
    expect(resumed.chunks[0]).toMatchObject({ type: "start", messageId: (live.chunks[0] as { messageId: string }).messageId });
    expect(deltasOf(resumed.chunks, "reasoning-delta").join("")).toBe("Hmm.");
    release();
    const [a, b] = await Promise.all([live.done, resumed.done]);
    const [, reply1] = await stored(token, chatId);
    for (const r of [a, b]) {
      expect(r.message.id).toBe(reply1.id);
      expect(partsOf(r.message)).toEqual([
        { type: "reasoning", text: "Hmm.", state: "done" },
        { type: "text", text: pieces.join(""), state: "done" },
      ]);
      expect(r.chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    }
    expect(await transport.reconnectToStream({ chatId })).toBeNull();
  } finally {
    release();
  }
});

it("stops through the cancel endpoint (the stop button's call): the stream finishes as cancelled, the reply is stored so", async () => {
  const { token } = await registerUser(g.app.api);
  const chatId = randomUUID();
  const slow: Step[] = [...Array.from({ length: 50 }, (_, i) => ({ text: `w${i} ` })), { finish: "stop" }, { done: true }];
  // Held after three pieces until the cancel closed the upstream request: the reply cannot end first.
  const { scenario, release } = gated({ steps: slow }, 3);
  g.groq.enqueue(scenario);
  const upstream = g.groq.nextRequest();
  try {
    const live = reading(await send(transportFor(g.app.api, token), chatId, [userMessage("Go on")]));
    await live.until((c) => deltasOf(c).length === 3, "three text deltas");
    const start = live.chunks[0] as { messageId: string; messageMetadata: { conversation_id: string } };
    const cancel = await call(g.app.api, "POST", `/conversations/${start.messageMetadata.conversation_id}/messages/${start.messageId}/cancel`, { token });
    expect(cancel.status).toBe(202);
    expect((await (await upstream).closed).early).toBe(true);
    const { message, chunks } = await live.done;
    expect(chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "other", messageMetadata: { stop_reason: "cancelled" } });
    const [, reply1] = await stored(token, chatId);
    expect(reply1).toMatchObject({ id: message.id, finish_reason: "cancelled", content: "w0 w1 w2 " });
    expect(partsOf(message).at(-1)).toEqual({ type: "text", text: "w0 w1 w2 ", state: "done" });
  } finally {
    release();
  }
});

it("reports a failure after the stream began as the protocol's error part, the partial text kept", async () => {
  const { token } = await registerUser(g.app.api);
  const chatId = randomUUID();
  // The upstream stream ends without a finish reason: a failure, after the text went out.
  g.groq.enqueue({ steps: [{ text: "Partial " }, { text: "answer" }] });
  const logged = captureConsoleErrors();
  let read: Awaited<ReturnType<typeof readAll>>;
  try {
    read = await readAll(await send(transportFor(g.app.api, token), chatId, [userMessage("Hi")]));
  } finally {
    logged.restore();
  }
  const { message, chunks, errors } = read;
  expect(logged.text()).toContain("reply_failed");
  expect(chunks.map((c) => c.type).slice(-3)).toEqual(["text-delta", "text-end", "error"]);
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/\S/);
  expect(JSON.stringify(chunks)).not.toContain("gsk_");
  const [, reply1] = await stored(token, chatId);
  expect(reply1).toMatchObject({ id: message.id, finish_reason: "error", content: "Partial answer" });
  expect(partsOf(message)).toEqual([{ type: "text", text: "Partial answer", state: "done" }]);
});

it("refuses a send while a reply of the chat streams (409 in our error shape), before any byte of a stream", async () => {
  const { token } = await registerUser(g.app.api);
  const chatId = randomUUID();
  const { scenario, release } = gated(reply(["a ", "b"]) as { steps: Step[] }, 1);
  g.groq.enqueue(scenario);
  try {
    const live = reading(await send(transportFor(g.app.api, token), chatId, [userMessage("first")]));
    await live.until((c) => deltasOf(c).length === 1, "a text delta");
    const r = await call(g.app.api, "POST", "/chat", { token, body: { id: chatId, messages: [userMessage("second")], trigger: "submit-message" } });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ type: "conflict_error", reply_id: (live.chunks[0] as { messageId: string }).messageId });
    release();
    await live.done;
  } finally {
    release();
  }
});
