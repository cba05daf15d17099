// Tool calls on the throwaway PostgreSQL server: a client that drops mid tool_use resumes from a second
// local runtime process on the same DATABASE_URL while the call still streams, and gets exactly the
// rest of the call's input; and the whole tool loop, its results sent to that other process. Skipped when PostgreSQL is not installed, unless REQUIRE_POSTGRES=1.
import { silentLogger } from "@conversation-api/local";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../packages/store/test/pg-server";
import { startGroqServer, type GroqServer } from "../fixtures/groq-server";
import { GROQ_KEY, newConversation } from "../groq/harness";
import { DURABLE_ENV, readUntil, resumeStream, settledReply } from "../durable/scenarios";
import { startApp, type TestApp } from "../support/app";
import { readSse, registerUser, stream, type SseEvent } from "../support/http";
import { startAppProcess, type AppProcess } from "../support/process";
import { toolLoop } from "./loop-scenario";

const JWT_SECRET = "test-secret-that-is-at-least-32-characters-long";
const tools = [
  { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "get_time", input_schema: { type: "object", properties: { zone: { type: "string" } } } },
];
const inputOf = (events: SseEvent[], index: number) =>
  events.filter((e) => e.data?.delta?.type === "input_json_delta" && e.data.index === index).map((e) => e.data.delta.partial_json).join("");

describe.skipIf(!postgresAvailable() && process.env.REQUIRE_POSTGRES !== "1")("tool calls on PostgreSQL", () => {
  let pg: PostgresServer;
  let groq: GroqServer;
  let app: TestApp;
  let second: AppProcess;
  beforeAll(async () => {
    pg = await startPostgres();
    groq = await startGroqServer();
    const env = { GROQ_API_KEY: GROQ_KEY, GROQ_BASE_URL: groq.url, DATABASE_URL: pg.url, JWT_SECRET, LAMBDA_FAITHFUL: "1", ...DURABLE_ENV };
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

  it("a resume from another instance in the middle of a tool_use block yields the exact input, and the calls are stored", async () => {
    const { token } = await registerUser(app.api);
    const conv = await newConversation(app.api, token);
    let release!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    groq.enqueue({
      steps: [
        { text: "Checking." },
        { toolCalls: [{ index: 0, id: "call_w1", name: "get_weather", arguments: "" }] },
        { toolCalls: [{ index: 0, arguments: '{"city": ' }] },
        { toolCalls: [{ index: 0, arguments: '"Pa' }] },
        { until: open },
        { toolCalls: [{ index: 0, arguments: 'ris"}' }] },
        { toolCalls: [{ index: 1, id: "call_t2", name: "get_time", arguments: '{"zone": "UTC"}' }] },
        { finish: "tool_calls", usage: { prompt_tokens: 30, completion_tokens: 12 } },
        { done: true },
      ],
    });
    const ac = new AbortController();
    const res = await stream(app.api, conv, token, { content: "Weather?", tools }, { signal: ac.signal });
    const seen = await readUntil(res, ac, (events) => inputOf(events, 1) === '{"city": "Pa');
    const replyId = seen[0]!.data.message.id;
    const lastId = seen.filter((e) => e.id).at(-1)!.id!;

    const resumed = resumeStream(second.api, conv, replyId, token, lastId);
    release();
    const rest = await readSse(await resumed);
    const all = [...seen, ...rest].filter((e) => e.event !== "ping");
    expect(all[0]!.event).toBe("message_start");
    expect(rest.some((e) => e.event === "message_start")).toBe(false);
    expect(inputOf(all, 1)).toBe('{"city": "Paris"}');
    expect(inputOf(all, 2)).toBe('{"zone": "UTC"}');
    expect(all.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block.type)).toEqual(["text", "tool_use", "tool_use"]);
    expect(all.find((e) => e.event === "message_delta")!.data.delta.stop_reason).toBe("tool_use");
    const ids = all.map((e) => Number(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    const stored = await settledReply(app.api, token, conv, replyId);
    expect(stored).toMatchObject({
      finish_reason: "tool_use",
      content: "Checking.",
      tool_use: [
        { type: "tool_use", id: "call_w1", name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: "call_t2", name: "get_time", input: { zone: "UTC" } },
      ],
    });
  });

  it("continues a reply that called tools from the results sent to another instance, which reads the calls from the database", async () => {
    const { token } = await registerUser(app.api);
    await toolLoop(groq, app.api, second.api, token);
  });
});
