// Budgets that hold, over real HTTP: every send reserves its worst case in the usage ledger before the
// model is called, under a per-user lock, and settles to the real usage when the reply ends.
import { afterAll, beforeAll, expect, it } from "vitest";
import { call, readSse, registerUser, stream } from "../support/http";
import { startApp, type TestApp } from "../support/app";

const BUDGET = 300;
const MAX_TOKENS = 40;
let app: TestApp;
beforeAll(async () => {
  app = await startApp({ DAILY_TOKEN_BUDGET: String(BUDGET) });
}, 60_000);
afterAll(() => app.close());

const newConversation = async (token: string) => (await call(app.api, "POST", "/conversations", { token, body: {} })).body.id as string;
const today = (token: string) =>
  call(app.api, "GET", `/usage?from=${new Date(Date.now() - 86_400_000).toISOString()}&group_by=model`, { token });

it("admits, of 50 concurrent sends, only those whose worst case fits the budget", async () => {
  const { token } = await registerUser(app.api);
  // One conversation per send: a conversation streams one reply at a time (a second send is 409), and
  // this is about the budget alone.
  const conversations = await Promise.all(Array.from({ length: 50 }, () => newConversation(token)));
  const sends = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const res = await stream(app.api, conversations[i]!, token, { content: `send ${i}`, max_tokens: MAX_TOKENS });
      if (res.status === 200) {
        const events = await readSse(res);
        return { status: 200, usage: events.find((e) => e.event === "message_start")!.data.message.usage.input_tokens as number };
      }
      const body = (await res.json()) as { error: { type: string } };
      expect(body.error.type).toBe("rate_limit_error");
      return { status: res.status, usage: 0 };
    }),
  );
  const granted = sends.filter((s) => s.status === 200);
  expect(granted.length).toBeGreaterThan(0);
  expect(sends.filter((s) => s.status === 429).length).toBeGreaterThan(0);
  // A reservation is the counted prompt plus max_tokens; what settles is never more.
  const oneReservation = Math.max(...granted.map((s) => s.usage)) + MAX_TOKENS;
  expect(granted.length * oneReservation).toBeLessThanOrEqual(BUDGET);
  const { totals } = (await today(token)).body;
  expect(totals.messages).toBe(granted.length);
  expect(totals.input_tokens + totals.output_tokens).toBeLessThanOrEqual(BUDGET);
}, 120_000);

it("keeps usage when the conversation it was spent in is deleted", async () => {
  const { token } = await registerUser(app.api);
  const conv = await newConversation(token);
  await readSse(await stream(app.api, conv, token, { content: "count me", max_tokens: 5 }));
  const before = (await today(token)).body;
  expect(before.totals.messages).toBe(1);
  expect(before.totals.output_tokens).toBeGreaterThan(0);
  expect((await call(app.api, "DELETE", `/conversations/${conv}`, { token })).status).toBe(204);
  const after = (await today(token)).body;
  expect({ data: after.data, totals: after.totals }).toEqual({ data: before.data, totals: before.totals });
});
