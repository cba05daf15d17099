// Durable replies on the throwaway PostgreSQL server: the same scenarios with resumes served by a
// second local runtime process on the same DATABASE_URL, and a producer process killed mid-reply.
// Skipped when PostgreSQL is not installed, unless REQUIRE_POSTGRES=1.
import { silentLogger } from "@conversation-api/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../packages/store/test/pg-server";
import { startGroqServer, type GroqServer } from "../fixtures/groq-server";
import { GROQ_KEY, messages, newConversation, textOf } from "../groq/harness";
import { startApp, type TestApp } from "../support/app";
import { registerUser, sseEvents, stream, type SseEvent } from "../support/http";
import { startAppProcess, type AppProcess } from "../support/process";
import { DURABLE_ENV, FLUSH_MS, STALE_MS, describeDurable, slowReply, storedReply } from "./scenarios";

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
});
