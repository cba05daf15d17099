// The per-user daily token budget: a send is admitted only if its worst case (the counted prompt plus
// its output limit) fits what is left of today's budget; otherwise 429 with a structured error before
// the model is called and before anything is stored. Other users are not affected.
import { afterAll, beforeAll, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { call, readSse, registerUser, stream } from "../support/http";
import { messages, newConversation, startGroqApp, type GroqApp } from "./harness";

const BUDGET = 200;
let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp({ DAILY_TOKEN_BUDGET: String(BUDGET) });
  api = h.app.api;
});
afterAll(() => h.close());

// Titled conversations: no title calls, which would spend from the same budget.
const conversation = (token: string) => newConversation(api, token, { title: "Budget" });
const used = async (token: string) => {
  const { totals } = (await call(api, "GET", `/usage?from=${new Date(Date.now() - 86_400_000).toISOString()}`, { token })).body;
  return totals.input_tokens + totals.output_tokens;
};

it("admits a send only while its worst case fits what is left, and refuses with 429 before the model is called", async () => {
  const { token } = await registerUser(api);
  h.groq.enqueue(reply(["Under budget"], { prompt_tokens: 60, completion_tokens: 30 }));
  const first = await readSse(await stream(api, await conversation(token), token, { content: "q", max_tokens: 30 }));
  // Every send below has the same prompt: one message in a fresh conversation.
  const prompt = first[0]!.data.message.usage.input_tokens as number;
  const spent = await used(token);
  expect(spent).toBe(prompt + 30);
  const left = BUDGET - spent;

  // One token more than what is left: refused, nothing stored or sent.
  const seen = h.groq.requests.length;
  const conv = await conversation(token);
  const refused = await stream(api, conv, token, { content: "q", max_tokens: left - prompt + 1 });
  expect(refused.status).toBe(429);
  expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await refused.json()) as any;
  expect(body.error).toMatchObject({ type: "rate_limit_error", request_id: refused.headers.get("x-request-id") });
  expect(body.error.message).toBe(
    `This send needs up to ${left + 1} tokens (a ${prompt}-token prompt plus ${left - prompt + 1} for the reply); ${left} of the daily token budget of ${BUDGET} are left`,
  );
  expect(body.error.retry_after).toBeGreaterThan(0);
  expect(body.error.retry_after).toBeLessThanOrEqual(86_400);
  expect(h.groq.requests.length).toBe(seen);
  expect(await messages(api, token, conv)).toEqual([]);

  // Exactly what is left: admitted, and its request carries that limit.
  h.groq.enqueue(reply(["Fits"], { prompt_tokens: 60, completion_tokens: 1 }));
  const fits = await stream(api, conv, token, { content: "q", max_tokens: left - prompt });
  expect(fits.status).toBe(200);
  await readSse(fits); // the reply is stored before the stream's closing events are sent
  expect(h.groq.requests.at(-1)!.body.max_completion_tokens).toBe(left - prompt);

  // Another user's budget is their own.
  const other = await registerUser(api);
  h.groq.enqueue(reply(["Fine"], { prompt_tokens: 5, completion_tokens: 1 }));
  const fine = await stream(api, await conversation(other.token), other.token, { content: "hi", max_tokens: 10 });
  expect(fine.status).toBe(200);
  await readSse(fine); // to its end: the reply is stored and settled before the app closes
});
