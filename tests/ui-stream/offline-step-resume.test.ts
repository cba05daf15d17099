// A reply to a client tool's output streams as the next step of the assistant message (start without a
// messageId, start-step, …, finish-step, finish). Resumed on load (GET /api/v1/chat/{id}/stream, what
// useChat's `resume: true` asks), it is written the same way, so the AI SDK's readUIMessageStream adds
// it to the message the page already holds instead of replacing that message with this step alone.
import { randomUUID } from "node:crypto";
import { readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, registerUser } from "../support/http";
import { readAll, reading, send, transportFor, userMessage } from "./client";

let app: TestApp;
beforeAll(async () => {
  // Paced so the continuation (some 45 pieces) is still streaming when the resume asks for it; the test
  // cancels it as soon as both streams have begun. Lambda-faithful, so leaving stops nothing.
  app = await startApp({ OFFLINE_TOKEN_DELAY_MS: "200", FLUSH_INTERVAL_MS: "100", ALLOWED_MODELS: "openai/gpt-oss-20b" }, { hideDisconnects: true });
});
afterAll(() => app.close());

const tools = [{ name: "get_time", description: "The time now", input_schema: { type: "object", properties: {} } }];

/** Reads the stream into `message`, as useChat does when its last message is the assistant's. */
async function continued(message: UIMessage, chunks: UIMessageChunk[]): Promise<UIMessage> {
  const stream = new ReadableStream<UIMessageChunk>({
    start(c) {
      for (const chunk of chunks) c.enqueue(chunk);
      c.close();
    },
  });
  let last: UIMessage | undefined;
  for await (const m of readUIMessageStream({ message, stream, terminateOnError: true })) last = m;
  return last!;
}

it("resumes a reply to tool results as the same step of the same message", async () => {
  const { token } = await registerUser(app.api);
  const chatId = randomUUID();
  const transport = transportFor(app.api, token);
  const user = userMessage("What time is it?");
  const first = await readAll(await send(transport, chatId, [user], { body: { tools } }));
  expect(first.chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "tool-calls" });
  const answered: UIMessage = {
    ...first.message,
    parts: first.message.parts.map((p) => (p.type === "tool-get_time" ? { ...p, state: "output-available", output: "noon" } : p)) as UIMessage["parts"],
  };
  const live = reading(
    await transport.sendMessages({ chatId, messages: [user, answered], trigger: "submit-message", messageId: answered.id, abortSignal: undefined, body: { tools } }),
  );
  await live.until((c) => c.length >= 2, "the start and start-step parts");

  const again = await transport.reconnectToStream({ chatId });
  expect(again).not.toBeNull();
  const resumed = reading(again!);
  await resumed.until((c) => c.length >= 2, "the resumed start and start-step parts");
  const [, reply] = (await call(app.api, "GET", `/conversations/${chatId}/messages?limit=100`, { token })).body.data.slice(2);
  expect(resumed.chunks.slice(0, 2)).toEqual([
    { type: "start", messageMetadata: { conversation_id: chatId, model: reply.model, reply_id: reply.id } },
    { type: "start-step" },
  ]);
  expect(resumed.chunks.slice(0, 2)).toEqual(live.chunks.slice(0, 2));

  expect((await call(app.api, "POST", `/conversations/${chatId}/messages/${reply.id}/cancel`, { token })).status).toBe(202);
  const [a, b] = await Promise.all([live.done, resumed.done]);
  expect(b.chunks.slice(-2).map((c) => c.type)).toEqual(["finish-step", "finish"]);
  expect(b.chunks.map((c) => c.type)).toEqual(a.chunks.map((c) => c.type));
  // On the page's message, both streams make the same message: the tool call's step, then this one.
  const [fromLive, fromResume] = await Promise.all([continued(answered, a.chunks), continued(answered, b.chunks)]);
  expect(fromResume).toEqual(fromLive);
  expect(fromResume.id).toBe(answered.id);
  expect(fromResume.parts.map((p) => p.type).slice(0, 3)).toEqual(["reasoning", "tool-get_time", "step-start"]);
  expect(fromResume.parts.find((p) => p.type === "tool-get_time")).toMatchObject({ state: "output-available", output: "noon" });
});
