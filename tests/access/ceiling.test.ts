// The ceiling on what one account can spend, over real HTTP on the throwaway PostgreSQL 15 server (a
// pool of connections, so concurrent sends really meet at the per-user lock) against a loopback Groq
// that charges 30,000 output tokens for any request sent without an output limit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../packages/store/test/pg-server";
import { outputLimitOf, reply, startGroqServer, type GroqServer } from "../fixtures/groq-server";
import { GROQ_KEY, messages, newConversation } from "../groq/harness";
import { startApp, type TestApp } from "../support/app";
import { call, readSse, registerUser, stream } from "../support/http";

const BUDGET = 20_000;
/** The output limit of a send without max_tokens: the smaller of the model's cap and RESERVE_OUTPUT_TOKENS. */
const LIMIT = 4096;

describe.skipIf(!postgresAvailable())("the spend ceiling on PostgreSQL 15", () => {
  let pg: PostgresServer;
  let groq: GroqServer;
  let app: TestApp;
  beforeAll(async () => {
    pg = await startPostgres();
    groq = await startGroqServer({ chargeUnlimited: true });
    app = await startApp({
      GROQ_API_KEY: GROQ_KEY,
      GROQ_BASE_URL: groq.url,
      DATABASE_URL: pg.url,
      DAILY_TOKEN_BUDGET: String(BUDGET),
      RESERVE_OUTPUT_TOKENS: String(LIMIT),
      // This file is about the budget; the cap on streaming replies has its own.
      MAX_CONCURRENT_REPLIES: "0",
      // A 32,000-character prompt of 3-byte characters is a larger body than the default allows.
      MAX_BODY_BYTES: String(256 * 1024),
    });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await groq?.close();
    await pg?.stop();
  }, 60_000);

  const usage = async (token: string, groupBy: "day" | "kind") =>
    (await call(app.api, "GET", `/usage?from=${new Date(Date.now() - 86_400_000).toISOString()}&group_by=${groupBy}`, { token })).body;

  it("keeps 8 concurrent sends without max_tokens within the budget; every upstream request carries a limit; titles are in the ledger", async () => {
    const { token } = await registerUser(app.api);
    const conversations = await Promise.all(Array.from({ length: 8 }, () => newConversation(app.api, token)));
    // Each reply uses all the output it was allowed.
    for (let i = 0; i < 8; i++) groq.enqueue(reply(["ok"], { prompt_tokens: 20, completion_tokens: LIMIT }));
    const before = groq.chatRequests.length;
    const sends = await Promise.all(
      conversations.map(async (conv) => {
        const res = await stream(app.api, conv, token, { content: "Tell me everything." });
        if (res.status === 200) return { status: 200, events: await readSse(res) };
        return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any };
      }),
    );
    const granted = sends.filter((s) => s.status === 200);
    const refused = sends.filter((s) => s.status !== 200);
    expect(granted.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(Number(r.retryAfter)).toBeGreaterThan(0);
      expect(r.body.error.type).toBe("rate_limit_error");
      expect(r.body.error.message).toContain(`daily token budget of ${BUDGET}`);
    }
    // Every request that left, sends and titles alike, carried an output limit.
    const sent = groq.chatRequests.slice(before);
    expect(sent.length).toBeGreaterThan(granted.length);
    for (const r of sent) expect(outputLimitOf(r.body)).not.toBeNull();
    for (const r of sent.filter((x) => x.body.stream === true)) expect(r.body.max_completion_tokens).toBe(LIMIT);

    const day = await usage(token, "day");
    const spent = day.totals.input_tokens + day.totals.output_tokens;
    const oneReservation = LIMIT + Math.max(...granted.map((s) => (s as any).events[0].data.message.usage.input_tokens as number));
    expect(spent).toBeLessThanOrEqual(BUDGET + oneReservation);
    expect(spent).toBeGreaterThan(granted.length * LIMIT);
    expect(day.totals.messages).toBe(granted.length);
    // The titles were asked for (the first reply of each conversation) and are counted apart.
    const byKind = await usage(token, "kind");
    const titles = byKind.data.find((r: any) => r.key === "title");
    expect(titles?.title_calls).toBeGreaterThan(0);
    expect(byKind.totals.title_calls).toBe(titles.title_calls);
    expect(byKind.data.find((r: any) => r.key === "reply")?.messages).toBe(granted.length);
  }, 120_000);

  it("refuses a send whose 32,000-character system prompt alone exceeds the budget with 429 naming both figures, before anything is stored or sent", async () => {
    const { token } = await registerUser(app.api);
    // CJK characters spread over the block: at least one token each for any tokenizer.
    const system = Array.from({ length: 32_000 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 7919) % 20_000))).join("");
    const conv = await newConversation(app.api, token, { system_prompt: system });
    const before = groq.chatRequests.length;
    const res = await stream(app.api, conv, token, { content: "Hi" });
    expect(res.status).toBe(429);
    const body = (await res.json()) as any;
    expect(body.error.type).toBe("rate_limit_error");
    expect(body.error.message).toContain(`daily token budget of ${BUDGET}`);
    const needed = Number(/needs up to (\d+) tokens/.exec(body.error.message)?.[1]);
    expect(needed).toBeGreaterThan(BUDGET);
    expect(groq.chatRequests.length).toBe(before);
    expect(await messages(app.api, token, conv)).toEqual([]);
    // Counting 32,000 characters with no space between them is seconds of CPU, minutes on a busy machine.
  }, 180_000);
});
