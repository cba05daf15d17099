// The bound conversation, with the offline model: a reply sent through useChat's transport is stored,
// is resumed from another connection (reconnectToStream) while it streams, and is stopped by the cancel
// endpoint, as the stop button calls it, after which both streams finish as cancelled.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, registerUser } from "../support/http";
import { partsOf, reading, send, transportFor, userMessage } from "./client";

let app: TestApp;
beforeAll(async () => {
  // Paced: the reply (some 80 words) streams for half a minute unless the cancel stops it,
  // which the test does as soon as both streams have begun; Lambda-faithful, so leaving stops nothing.
  app = await startApp({ OFFLINE_TOKEN_DELAY_MS: "400", FLUSH_INTERVAL_MS: "100" }, { hideDisconnects: true });
});
afterAll(() => app.close());

it("stores, resumes and cancels a reply of a chat", async () => {
  const { token } = await registerUser(app.api);
  const chatId = randomUUID();
  const transport = transportFor(app.api, token);
  const live = reading(await send(transport, chatId, [userMessage("Tell me about the sea, the waves, the wind, the boats and the long grey harbour in the rain")]));
  await live.until((c) => c.length >= 1, "the start part");
  const start = live.chunks[0] as { type: string; messageId: string; messageMetadata: { conversation_id: string } };
  expect(start.type).toBe("start");
  expect(start.messageMetadata.conversation_id).toBe(chatId);

  const again = await transport.reconnectToStream({ chatId });
  expect(again).not.toBeNull();
  const resumed = reading(again!);
  await resumed.until((c) => c.length >= 1, "the resumed start part");
  expect(resumed.chunks[0]).toMatchObject({ type: "start", messageId: start.messageId });

  const cancel = await call(app.api, "POST", `/conversations/${chatId}/messages/${start.messageId}/cancel`, { token });
  expect(cancel.status).toBe(202);
  const [a, b] = await Promise.all([live.done, resumed.done]);
  const reply = (await call(app.api, "GET", `/conversations/${chatId}/messages`, { token })).body.data[1];
  expect(reply).toMatchObject({ id: start.messageId, finish_reason: "cancelled" });
  for (const r of [a, b]) {
    expect(r.chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "other", messageMetadata: { stop_reason: "cancelled" } });
    expect(r.message.id).toBe(reply.id);
    // Whatever had streamed when the cancel landed, and the same on both connections.
    expect(partsOf(r.message).map((p) => p.text).join("")).toBe(reply.reasoning + reply.content);
  }
  expect(await transport.reconnectToStream({ chatId })).toBeNull();
});
