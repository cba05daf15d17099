// The Idempotency-Key on a send: a client that retries after a broken stream gets a fresh answer to the
// one stored user message; a repeat after a finished reply gets 409 with that reply's id, and the model
// is not called again.
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { captureConsoleErrors } from "../support/console";
import { readSse, registerUser, stream } from "../support/http";
import { errorOf, messages, newConversation, startGroqApp, textOf, type GroqApp } from "./harness";

let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp();
  api = h.app.api;
});
afterAll(() => h.close());

// The failed sends below are logged as reply_failed; keep them out of the test output and check them.
let logs: ReturnType<typeof captureConsoleErrors>;
beforeEach(() => (logs = captureConsoleErrors()));
afterEach(() => logs.restore());

const usage = { prompt_tokens: 10, completion_tokens: 2 };

it("a retried send after a failed stream stores no second user message; a repeat after completion is 409 with the reply id", async () => {
  const { token } = await registerUser(api);
  const conv = await newConversation(api, token);
  h.groq.enqueue(reply(["Earlier answer"], usage));
  await readSse(await stream(api, conv, token, { content: "earlier question" }));

  const headers = { "idempotency-key": "send-7f3a" };
  h.groq.enqueue({ steps: [{ text: "Broken" }, { delay: 150 }, { drop: true }] });
  const first = await readSse(await stream(api, conv, token, { content: "What is 2+2?" }, { headers }));
  expect(errorOf(first).type).toBe("api_error");
  expect(logs.text()).toContain("reply_failed");

  h.groq.enqueue(reply(["Four."], usage));
  const second = await readSse(await stream(api, conv, token, { content: "What is 2+2?" }, { headers }));
  expect(textOf(second)).toBe("Four.");
  // The retry's prompt: the history before the send and the send itself once; not the broken partial.
  expect(h.groq.requests.at(-1)!.body.messages).toEqual([
    { role: "user", content: "earlier question" },
    { role: "assistant", content: "Earlier answer" },
    { role: "user", content: "What is 2+2?" },
  ]);

  const stored = await messages(api, token, conv);
  expect(stored.filter((m) => m.content === "What is 2+2?")).toHaveLength(1);
  // The retry's reply is a sibling of the failed one (branches): the listed branch holds the retry.
  expect(stored.map((m) => [m.role, m.finish_reason])).toEqual([
    ["user", null],
    ["assistant", "end_turn"],
    ["user", null],
    ["assistant", "end_turn"],
  ]);
  const answer = stored.at(-1);
  expect(answer.sibling_ids).toEqual([first[0]!.data.message.id, answer.id]);
  expect(answer.id).toBe(second[0]!.data.message.id);
  expect(answer.metadata).toMatchObject({ idempotency_key: "send-7f3a", retry_of_user_message: stored[2].id });

  const seen = h.groq.requests.length;
  const again = await stream(api, conv, token, { content: "What is 2+2?" }, { headers });
  expect(again.status).toBe(409);
  expect(((await again.json()) as any).error).toMatchObject({ type: "conflict_error", reply_id: answer.id });
  expect(h.groq.requests.length).toBe(seen);
  expect(await messages(api, token, conv)).toHaveLength(4);
});

it("a repeat of a send that completed the first time is 409 at once, and another key is a new send", async () => {
  const { token } = await registerUser(api);
  const conv = await newConversation(api, token);
  h.groq.enqueue(reply(["Hi!"], usage));
  const first = await readSse(await stream(api, conv, token, { content: "hi" }, { headers: { "idempotency-key": "k1" } }));
  const replyId = first[0]!.data.message.id;

  const seen = h.groq.requests.length;
  const repeat = await stream(api, conv, token, { content: "hi" }, { headers: { "idempotency-key": "k1" } });
  expect(repeat.status).toBe(409);
  expect(((await repeat.json()) as any).error.reply_id).toBe(replyId);
  expect(h.groq.requests.length).toBe(seen);

  h.groq.enqueue(reply(["Hello again"], usage));
  const other = await stream(api, conv, token, { content: "hi" }, { headers: { "idempotency-key": "k2" } });
  expect(other.status).toBe(200);
  await readSse(other);
  expect((await messages(api, token, conv)).filter((m) => m.role === "user")).toHaveLength(2);
});

it("a failed send the conversation has since moved past cannot be answered again: 409", async () => {
  const { token } = await registerUser(api);
  const conv = await newConversation(api, token);
  h.groq.enqueue({ status: 500 }, reply(["Later"], usage));
  await readSse(await stream(api, conv, token, { content: "first" }, { headers: { "idempotency-key": "old" } }));
  await readSse(await stream(api, conv, token, { content: "second" }));
  const seen = h.groq.requests.length;
  const late = await stream(api, conv, token, { content: "first" }, { headers: { "idempotency-key": "old" } });
  expect(late.status).toBe(409);
  expect(h.groq.requests.length).toBe(seen);
  expect(logs.text()).toContain("reply_failed");
});
