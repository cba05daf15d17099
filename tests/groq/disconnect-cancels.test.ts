// DISCONNECT_CANCELS=1 on a runtime that reports disconnects (the local runtime's default mode): a
// client that leaves stops its reply. Lambda never reports a disconnect, so there the setting does nothing.
import { afterAll, beforeAll, expect, it } from "vitest";
import { quietLateTitleFailures } from "../support/console";
import { registerUser, sseEvents, stream } from "../support/http";
import { newConversation, replies, startGroqApp, type GroqApp } from "./harness";

let h: GroqApp;
beforeAll(() => quietLateTitleFailures());
beforeAll(async () => {
  h = await startGroqApp({ DISCONNECT_CANCELS: "1" });
});
afterAll(() => h.close());

it("closes the upstream connection and stores the partial reply as cancelled", async () => {
  const api = h.app.api;
  const { token } = await registerUser(api);
  const conv = await newConversation(api, token);
  h.groq.enqueue({ steps: [{ text: "Hello" }, { text: " there" }, { hang: true }] });
  const upstream = h.groq.nextRequest();
  const client = new AbortController();
  const res = await stream(api, conv, token, { content: "talk" }, { signal: client.signal });
  let text = "";
  try {
    for await (const e of sseEvents(res)) {
      if (e.event === "content_block_delta") text += e.data.delta.text;
      if (text === "Hello there") client.abort();
    }
  } catch {
    // the aborted body read
  }
  expect((await (await upstream).closed).early).toBe(true);
  const [stored] = await replies(api, token, conv);
  expect(stored).toMatchObject({ content: "Hello there", finish_reason: "cancelled" });
  expect(stored.metadata.error).toBeUndefined();
});
