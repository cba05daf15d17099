// Durable replies on the throwaway PostgreSQL server: the same scenarios with resumes served by a
// second local runtime process on the same DATABASE_URL, and a producer process killed mid-reply.
// Skipped when PostgreSQL is not installed, unless REQUIRE_POSTGRES=1.
import { silentLogger } from "@conversation-api/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../packages/store/test/pg-server";
import { startGroqServer, type GroqServer } from "../fixtures/groq-server";
import { GROQ_KEY, messages, newConversation, textOf } from "../groq/harness";
import { startApp, type TestApp } from "../support/app";
import { call, readSse, registerUser, sseEvents, stream, type SseEvent } from "../support/http";
import { startAppProcess, type AppProcess } from "../support/process";
import { DURABLE_ENV, FLUSH_MS, STALE_MS, describeDurable, settledReply, slowReply, storedReply } from "./scenarios";

const JWT_SECRET = "test-secret-that-is-at-least-32-characters-long";

describe.skipIf(!postgresAvailable() && process.env.REQUIRE_POSTGRES !== "1")("durable replies on PostgreSQL", () => {
  let pg: PostgresServer;
  let groq: GroqServer;
  let app: TestApp;
  let second: AppProcess;
  let env: Record<string, string>;
  beforeAll(async () => {
    pg = await startPostgres();
    groq = await startGroqServer();
    env = { GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: groq.url, DATABASE_URL: pg.url, JWT_SECRET, LAMBDA_FAITHFUL: "1", ...DURABLE_ENV };
    app = await startApp(env, { hideDisconnects: true, logger: silentLogger });
    // Applies the schema first, so the other process finds it in place.
    await registerUser(app.api);
    second = await startAppProcess(env);
  }, 180_000);
  afterAll(async () => {
    await second?.stop();
    await app?.close();
    await groq?.close();
    await pg?.stop();
  }, 60_000);

  describeDurable(() => ({ api: app.api, groq, resumer: () => second.api }));

  it("a producer killed with SIGKILL leaves its text up to the last flush; after the stale window the reply reads as error", async () => {
    const producer = await startAppProcess(env);
    try {
      const { token } = await registerUser(app.api);
      const conv = await newConversation(app.api, token);
      const gap = 10;
      const { scenario, text } = slowReply(500, gap);
      groq.enqueue(scenario);
      const upstream = groq.nextRequest();
      const events = sseEvents(await stream(producer.api, conv, token, { content: "long" }));
      const seen: SseEvent[] = [];
      const pull = async () => seen.push((await events.next()).value as SseEvent);
      await pull();
      const replyId = seen[0]!.data.message.id;
      // Read until a flush has landed and grown past a few pieces, then kill the producer at once.
      let stored = "";
      while (stored.length < 20) {
        await pull();
        stored = (await storedReply(app.api, token, conv, replyId))?.content ?? "";
      }
      await producer.kill();
      const received = textOf(seen);
      const partial = await storedReply(app.api, token, conv, replyId);
      expect(text.startsWith(partial.content)).toBe(true);
      expect(partial.content.length).toBeGreaterThanOrEqual(stored.length);
      // What is missing is at most what one flush interval carried (plus the piece in the socket).
      const pieceChars = "p100 ".length;
      expect(Math.max(0, received.length - partial.content.length)).toBeLessThanOrEqual((Math.ceil(FLUSH_MS / gap) + 2) * pieceChars * 2);
      expect(partial.finish_reason).toBeNull();
      expect((await (await upstream).closed).early).toBe(true);

      // Any reader settles it once the heartbeat is older than the stale window.
      await new Promise((r) => setTimeout(r, STALE_MS + 200));
      const after = (await messages(app.api, token, conv)).find((m) => m.id === replyId);
      expect(after).toMatchObject({ finish_reason: "error", metadata: { error: { type: "api_error" } } });
      expect(after.content).toBe(partial.content);
    } finally {
      await producer.kill();
    }
  }, 60_000);

  it("an instance builds a prompt from the history it kept only while the conversation is where it left it", async () => {
    const { token } = await registerUser(app.api);
    const conv = await newConversation(app.api, token, { title: "Kept" });
    const answer = (text: string) => ({ steps: [{ text }, { finish: "stop" as const, usage: { prompt_tokens: 5, completion_tokens: 1 } }, { done: true as const }] });
    // Each answer is stored before the next step, as a client that read it back would find it.
    const ask = async (api: string, content: string, text: string) => {
      groq.enqueue(answer(text));
      const upstream = groq.nextRequest();
      const events = await readSse(await stream(api, conv, token, { content }));
      expect(textOf(events)).toBe(text);
      expect((await settledReply(api, token, conv, events[0]!.data.message.id)).content).toBe(text);
      return (await upstream).body.messages;
    };
    // This process keeps the conversation after its first reply...
    await ask(app.api, "one", "1");
    // ...then the second process answers in it, and the system prompt changes.
    await ask(second.api, "two", "2");
    const patched = await call(app.api, "PATCH", `/conversations/${conv}`, { token, body: { system_prompt: "Answer in digits." } });
    expect(patched.status).toBe(200);

    // This process calls the model at once with what it kept; begin_reply says the conversation moved
    // on, so that call is stopped (nothing of it reaches the client) and the model is asked again with
    // what the database holds.
    groq.enqueue({ steps: [{ delay: 10_000 }, { text: "stale" }] }, answer("3"));
    const early = groq.nextRequest();
    const events = await readSse(await stream(app.api, conv, token, { content: "three" }));
    expect(textOf(events)).toBe("3");
    const [stale, fresh] = groq.requests.slice(-2);
    expect(stale).toBe(await early);
    expect(stale!.body.messages).toEqual([
      { role: "user", content: "one" },
      { role: "assistant", content: "1" },
      { role: "user", content: "three" },
    ]);
    expect((await stale!.closed).early).toBe(true);
    await settledReply(app.api, token, conv, events[0]!.data.message.id);
    expect(fresh!.body.messages).toEqual([
      { role: "system", content: "Answer in digits." },
      { role: "user", content: "one" },
      { role: "assistant", content: "1" },
      { role: "user", content: "two" },
      { role: "assistant", content: "2" },
      { role: "user", content: "three" },
    ]);
    expect((await messages(app.api, token, conv)).map((m) => m.content)).toEqual(["one", "1", "two", "2", "three", "3"]);
  }, 60_000);
});
