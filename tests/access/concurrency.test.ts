// At most MAX_CONCURRENT_REPLIES (4) replies of one user stream at once, across conversations: the
// fifth gets 429 with Retry-After and stores nothing; once one ends there is room again.
import { afterAll, beforeAll, expect, it } from "vitest";
import { reply, type Scenario } from "../fixtures/groq-server";
import { messages, newConversation, startGroqApp, type GroqApp } from "../groq/harness";
import { call, readSse, registerUser, sseEvents, stream } from "../support/http";

let h: GroqApp;
beforeAll(async () => {
  h = await startGroqApp({ MAX_CONCURRENT_REPLIES: "4" });
}, 60_000);
afterAll(() => h.close());

/** A reply that streams one word and then waits until its request is stopped. */
const held: Scenario = { steps: [{ text: "Thinking" }, { hang: true }] };

it("refuses a fifth concurrent reply of one user with 429 and Retry-After; another user, or a later send, is served", async () => {
  const api = h.app.api;
  const { token } = await registerUser(api);
  const conversations = await Promise.all(Array.from({ length: 5 }, () => newConversation(api, token, { title: "t" })));
  const open = [];
  for (const conv of conversations.slice(0, 4)) {
    h.groq.enqueue(held);
    const events = sseEvents(await stream(api, conv, token, { content: "Go" }));
    const start = (await events.next()).value!;
    expect(start.event).toBe("message_start");
    open.push({ conv, id: start.data.message.id as string, events });
  }

  const before = h.groq.requests.length;
  const fifth = await stream(api, conversations[4]!, token, { content: "One more" });
  expect(fifth.status).toBe(429);
  expect(Number(fifth.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await fifth.json()) as any;
  expect(body.error).toMatchObject({ type: "rate_limit_error", request_id: fifth.headers.get("x-request-id") });
  expect(body.error.message).toMatch(/4 of your replies are already streaming/);
  expect(await messages(api, token, conversations[4]!)).toEqual([]);
  // This instance had not seen the user at the cap, so it may have started the model call early (and
  // stopped it: the client got the 429). Now it knows: another try waits for the database, calls nothing.
  const early = h.groq.requests.length - before;
  expect(early).toBeLessThanOrEqual(1);
  const again = await stream(api, conversations[4]!, token, { content: "One more" });
  expect(again.status).toBe(429);
  await again.body?.cancel();
  expect(h.groq.requests.length).toBe(before + early);

  // Another user has their own room.
  const other = await registerUser(api);
  h.groq.enqueue(reply(["Fine"]));
  const fine = await stream(api, await newConversation(api, other.token, { title: "t" }), other.token, { content: "Hi" });
  expect(fine.status).toBe(200);
  await readSse(fine);

  // One ends (cancelled): room for the fifth.
  const first = open.shift()!;
  expect((await call(api, "POST", `/conversations/${first.conv}/messages/${first.id}/cancel`, { token })).status).toBe(202);
  for await (const _ of first.events);
  h.groq.enqueue(reply(["Now"]));
  const later = await stream(api, conversations[4]!, token, { content: "One more" });
  expect(later.status).toBe(200);
  await readSse(later);

  // Leave nothing streaming behind.
  for (const o of open) {
    await call(api, "POST", `/conversations/${o.conv}/messages/${o.id}/cancel`, { token });
    for await (const _ of o.events);
  }
  for (const c of conversations)
    expect((await messages(api, token, c)).filter((m) => m.role === "assistant").map((m) => m.finish_reason)).toEqual([c === conversations[4] ? "end_turn" : "cancelled"]);
}, 60_000);
