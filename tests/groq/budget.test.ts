// The per-user daily token budget: once a user's replies today add up to it, a send is refused with 429
// and a structured error before the model is called; other users are not affected.
import { afterAll, beforeAll, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { readSse, registerUser, stream } from "../support/http";
import { messages, newConversation, startGroqApp, type GroqApp } from "./harness";

let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp({ DAILY_TOKEN_BUDGET: "100" });
  api = h.app.api;
});
afterAll(() => h.close());

it("refuses a send over the daily budget with 429 before the model is called", async () => {
  const { token } = await registerUser(api);
  const conv = await newConversation(api, token);
  h.groq.enqueue(reply(["Under budget"], { prompt_tokens: 60, completion_tokens: 30 }));
  await readSse(await stream(api, conv, token, { content: "one" }));

  // 90 of 100 used: still allowed (the budget is checked before a send, not cut mid-reply).
  h.groq.enqueue(reply(["Crossing it"], { prompt_tokens: 70, completion_tokens: 20 }));
  const allowed = await stream(api, conv, token, { content: "two" });
  expect(allowed.status).toBe(200);
  await readSse(allowed); // the reply is stored before the stream's closing events are sent

  // 180 of 100: refused.
  const seen = h.groq.requests.length;
  const refused = await stream(api, conv, token, { content: "three" });
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await refused.json()) as any;
  expect(body.error).toMatchObject({ type: "rate_limit_error", request_id: refused.headers.get("x-request-id") });
  expect(body.error.message).toMatch(/budget/i);
  expect(body.error.retry_after).toBeGreaterThan(0);
  expect(body.error.retry_after).toBeLessThanOrEqual(86_400);
  expect(h.groq.requests.length).toBe(seen);
  expect((await messages(api, token, conv)).filter((m) => m.content === "three")).toHaveLength(0);

  // Another user's budget is their own.
  const other = await registerUser(api);
  const otherConv = await newConversation(api, other.token);
  h.groq.enqueue(reply(["Fine"], { prompt_tokens: 5, completion_tokens: 1 }));
  const fine = await stream(api, otherConv, other.token, { content: "hi" });
  expect(fine.status).toBe(200);
  await readSse(fine); // to its end: the reply is stored and settled before the app closes
});
