// Groq's built-in tools (server_tools) through the real app and the real groq-sdk, the loopback Groq
// server streaming `delta.executed_tools` as Groq does: asked for as Groq takes them, streamed as
// Anthropic's server_tool_use and result blocks before the text, stored with the reply (listed,
// exported), replayed by a resume from any event, their uses kept with the usage and the upstream's
// larger prompt figure settled in the ledger; refused (422) on a model that cannot use them and when
// the server has them off (SERVER_TOOLS). The storage also on the throwaway PostgreSQL server.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usingBuiltInTools, type ExecutedTool, type Scenario } from "../fixtures/groq-server";
import { call, mergedDeltas, readSse, registerUser, stream, type SseEvent } from "../support/http";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../packages/store/test/pg-server";
import { readUntil, resumeStream } from "../durable/scenarios";
import { names, newConversation, replies, startGroqApp, textOf, type GroqApp } from "../groq/harness";

const MODELS = "openai/gpt-oss-20b,openai/gpt-oss-120b,qwen/qwen3.6-27b";
let h: GroqApp;
let off: GroqApp;
let token: string;
let offToken: string;
/**
 * One app at a time, each once its Groq model list is read: opening a second in-memory database holds
 * the thread long enough for the first one's list request to time out on a loaded machine.
 */
async function started(env: Record<string, string>): Promise<GroqApp> {
  const app = await startGroqApp(env);
  await (await app.app.deps()).provider.catalog?.ready();
  return app;
}

beforeAll(async () => {
  h = await started({ ALLOWED_MODELS: MODELS, SERVER_TOOLS: "browser_search,code_interpreter" });
  off = await started({ ALLOWED_MODELS: MODELS });
  [{ token }, { token: offToken }] = await Promise.all([registerUser(h.app.api), registerUser(off.app.api)]);
});
afterAll(() => Promise.all([h?.close(), off?.close()]));

const search: ExecutedTool = {
  index: 0,
  type: "browser.search",
  arguments: '{"query":"tallest building 2026"}',
  output: "[0] Burj Khalifa (https://example.com/burj)",
  search_results: { results: [{ title: "Burj Khalifa", url: "https://example.com/burj", content: "828 m tall.", score: 0.9 }] },
};
const usage = { prompt_tokens: 1_900, completion_tokens: 60 };

async function send(api: string, tok: string, conv: string, body: Record<string, unknown>): Promise<Response> {
  return stream(api, conv, tok, { content: "What is the tallest building?", ...body });
}

async function sendOk(conv: string, scenario: Scenario, body: Record<string, unknown>): Promise<SseEvent[]> {
  h.groq.enqueue(scenario);
  const res = await send(h.app.api, token, conv, body);
  expect(res.status).toBe(200);
  return readSse(res);
}

const starts = (events: SseEvent[]) => events.filter((e) => e.event === "content_block_start").map((e) => e.data);

describe("server_tools on a model that can use them", () => {
  it("asks Groq for the tool, streams server_tool_use and web_search_tool_result before the text, and stores them", async () => {
    const conv = await newConversation(h.app.api, token);
    const asked = h.groq.nextRequest();
    const events = await sendOk(conv, usingBuiltInTools(["Let me search."], [search], ["The Burj ", "Khalifa."], usage), {
      model: "openai/gpt-oss-120b",
      server_tools: ["browser_search"],
    });
    expect((await asked).body.tools).toEqual([{ type: "browser_search" }]);

    expect(names(events)).toEqual([
      "message_start",
      "content_block_start", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_stop",
      "content_block_start", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const [thinking, use, result, text] = starts(events);
    expect(thinking).toMatchObject({ index: 0, content_block: { type: "thinking" } });
    expect(use).toEqual({
      type: "content_block_start",
      index: 1,
      content_block: { type: "server_tool_use", id: expect.stringMatching(/^srvtoolu_/), name: "browser_search", input: { query: "tallest building 2026" } },
    });
    expect(result).toEqual({
      type: "content_block_start",
      index: 2,
      content_block: {
        type: "web_search_tool_result",
        tool_use_id: use.content_block.id,
        content: [{ type: "web_search_result", url: "https://example.com/burj", title: "Burj Khalifa", page_age: null, content: "828 m tall." }],
        output: "[0] Burj Khalifa (https://example.com/burj)",
      },
    });
    expect(text).toMatchObject({ index: 3, content_block: { type: "text" } });
    expect(events.filter((e) => e.event === "content_block_stop").map((e) => e.data.index)).toEqual([0, 1, 2, 3]);
    expect(textOf(events.filter((e) => e.data.index === 3))).toBe("The Burj Khalifa.");
    const ids = events.map((e) => Number(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    const [stored] = await replies(h.app.api, token, conv);
    expect(stored).toMatchObject({ content: "The Burj Khalifa.", reasoning: "Let me search.", finish_reason: "end_turn", token_count: 60 });
    expect(stored.server_tools).toEqual([use.content_block, result.content_block]);
    expect(stored).not.toHaveProperty("tool_use");
    // Groq bills the tool per use and the results it fed the model as prompt tokens: both are kept.
    expect(stored.metadata.usage.server_tool_use).toEqual({ browser_search: 1 });
    // The stored figure stays the prompt as sent (message_start's); Groq's count is in metadata.usage.
    expect(stored.metadata.usage.prompt_tokens).toBe(1_900);
    expect(stored.input_tokens).toBeLessThan(1_900);
    const ledger = await call(h.app.api, "GET", "/usage?group_by=model", { token });
    expect(ledger.body.data).toContainEqual(expect.objectContaining({ key: "openai/gpt-oss-120b", input_tokens: 1_900, output_tokens: 60 }));

    const exported = await call(h.app.api, "GET", `/conversations/${conv}/export?format=json`, { token });
    expect(exported.body.messages.find((m: any) => m.role === "assistant").server_tools).toEqual(stored.server_tools);
    const markdown = await fetch(`${h.app.api}/conversations/${conv}/export?format=markdown`, { headers: { authorization: `Bearer ${token}` } });
    expect(await markdown.text()).toContain("**Server tool** `browser_search`");
  });

  it("takes both tools; code whose output arrives after its arguments is one code_execution_tool_result; a tool after the text is left out but counted", async () => {
    const conv = await newConversation(h.app.api, token);
    const asked = h.groq.nextRequest();
    const events = await sendOk(
      conv,
      {
        steps: [
          { executedTools: [search] },
          { executedTools: [{ index: 1, type: "python", arguments: '{"code":"print(828*3.28)"}' }] },
          { executedTools: [{ index: 1, type: "python", arguments: '{"code":"print(828*3.28)"}', output: "2715.84\n" }] },
          { text: "About 2716 ft." },
          { executedTools: [{ index: 2, type: "browser.search", arguments: '{"query":"late"}', output: "late" }] },
          { finish: "stop", usage },
          { done: true },
        ],
      },
      { model: "openai/gpt-oss-20b", server_tools: ["browser_search", "code_interpreter"] },
    );
    expect((await asked).body.tools).toEqual([{ type: "browser_search" }, { type: "code_interpreter" }]);
    const blocks = starts(events).map((s) => s.content_block);
    expect(blocks.map((b) => b.type)).toEqual(["server_tool_use", "web_search_tool_result", "server_tool_use", "code_execution_tool_result", "text"]);
    expect(blocks[2]).toMatchObject({ name: "code_interpreter", input: { code: "print(828*3.28)" } });
    expect(blocks[3]).toEqual({
      type: "code_execution_tool_result",
      tool_use_id: blocks[2].id,
      content: { type: "code_execution_result", stdout: "2715.84\n", stderr: "", return_code: 0, content: [] },
    });
    const [stored] = await replies(h.app.api, token, conv);
    expect(stored.server_tools).toEqual(blocks.slice(0, 4));
    expect(stored.metadata.usage.server_tool_use).toEqual({ browser_search: 2, code_interpreter: 1 });
  });

  it("a resume after any event replays exactly what followed it", async () => {
    const conv = await newConversation(h.app.api, token);
    const live = (
      await sendOk(conv, usingBuiltInTools(["Searching."], [search], ["Burj ", "Khalifa."], usage), { model: "openai/gpt-oss-120b", server_tools: ["browser_search"] })
    ).filter((e) => e.event !== "ping");
    const [stored] = await replies(h.app.api, token, conv);
    for (let i = 0; i < live.length - 1; i++) {
      const res = await fetch(`${h.app.api}/conversations/${conv}/messages/${stored.id}/stream`, {
        headers: { authorization: `Bearer ${token}`, "last-event-id": live[i]!.id! },
      });
      expect(res.status).toBe(200);
      const rest = (await readSse(res)).filter((e) => e.event !== "ping");
      expect(mergedDeltas(rest), `after event ${i} (${live[i]!.event})`).toEqual(mergedDeltas(live.slice(i + 1)));
    }
    const whole = (await readSse(await fetch(`${h.app.api}/conversations/${conv}/messages/${stored.id}/stream`, { headers: { authorization: `Bearer ${token}` } }))).filter(
      (e) => e.event !== "ping",
    );
    expect(mergedDeltas(whole)).toEqual(mergedDeltas(live));
  });

  it("a client that left mid-text resumes while the reply still streams: the stored server tools, then the rest", async () => {
    const conv = await newConversation(h.app.api, token);
    let release!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    h.groq.enqueue({
      steps: [{ reasoning: "Searching." }, { executedTools: [search] }, { text: "The " }, { until: open }, { text: "rest." }, { finish: "stop", usage }, { done: true }],
    });
    const ac = new AbortController();
    const res = await stream(h.app.api, conv, token, { content: "Tallest?", model: "openai/gpt-oss-120b", server_tools: ["browser_search"] }, { signal: ac.signal });
    const seen = await readUntil(res, ac, (events) => events.some((e) => e.data?.delta?.type === "text_delta"));
    const replyId = seen[0]!.data.message.id;
    const useStart = seen.find((e) => e.data?.content_block?.type === "server_tool_use")!;

    const resumed = resumeStream(h.app.api, conv, replyId, token, useStart.id);
    release();
    const rest = (await readSse(await resumed)).filter((e) => e.event !== "ping");
    expect(rest.map((e) => [e.event, e.data.index ?? null, e.data.content_block?.type ?? null])).toEqual([
      ["content_block_stop", 1, null],
      ["content_block_start", 2, "web_search_tool_result"],
      ["content_block_stop", 2, null],
      ["content_block_start", 3, "text"],
      ...rest.filter((e) => e.event === "content_block_delta").map(() => ["content_block_delta", 3, null]),
      ["content_block_stop", 3, null],
      ["message_delta", null, null],
      ["message_stop", null, null],
    ]);
    expect(textOf(rest)).toBe("The rest.");
    const ids = [...seen.slice(0, seen.indexOf(useStart) + 1), ...rest].map((e) => Number(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it("a regenerate takes server_tools too", async () => {
    const conv = await newConversation(h.app.api, token);
    await sendOk(conv, usingBuiltInTools([], [], ["No tools."], usage), { model: "openai/gpt-oss-120b" });
    const [first] = await replies(h.app.api, token, conv);
    const code: ExecutedTool = { index: 0, type: "python", arguments: '{"code":"print(1+1)"}', output: "2\n" };
    h.groq.enqueue(usingBuiltInTools([], [code], ["Two."], usage));
    const asked = h.groq.nextRequest();
    const res = await fetch(`${h.app.api}/conversations/${conv}/messages/${first.id}/regenerate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai/gpt-oss-120b", server_tools: ["code_interpreter"] }),
    });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect((await asked).body.tools).toEqual([{ type: "code_interpreter" }]);
    expect(starts(events).map((s) => s.content_block.type)).toEqual(["server_tool_use", "code_execution_tool_result", "text"]);
    const again = await fetch(`${h.app.api}/conversations/${conv}/messages/${first.id}/regenerate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "qwen/qwen3.6-27b", server_tools: ["code_interpreter"] }),
    });
    expect(again.status).toBe(422);
    expect(((await again.json()) as any).error.fields).toEqual([expect.objectContaining({ path: "body.server_tools" })]);
  });

  it("GET /models lists the server tools of each model that can use them", async () => {
    const r = await call(h.app.api, "GET", "/models", { token });
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.data.map((m: any) => [m.id, m.server_tools]));
    expect(byId).toEqual({
      "openai/gpt-oss-20b": ["browser_search", "code_interpreter"],
      "openai/gpt-oss-120b": ["browser_search", "code_interpreter"],
      "qwen/qwen3.6-27b": [],
    });
  });
});

describe("server_tools refused (422, nothing stored, no model call)", () => {
  async function refused(app: GroqApp, tok: string, body: Record<string, unknown>) {
    const conv = await newConversation(app.app.api, tok);
    const before = app.groq.requests.length;
    const res = await send(app.app.api, tok, conv, body);
    const error = ((await res.json()) as any).error;
    expect(res.status).toBe(422);
    expect(error).toMatchObject({ type: "validation_error", request_id: expect.any(String) });
    expect(error.fields.every((f: any) => f.path.startsWith("body.server_tools"))).toBe(true);
    expect(app.groq.requests.length).toBe(before);
    expect((await call(app.app.api, "GET", `/conversations/${conv}/messages`, { token: tok })).body.data).toEqual([]);
    return error;
  }

  it("on a model that cannot use them", async () => {
    const error = await refused(h, token, { model: "qwen/qwen3.6-27b", server_tools: ["browser_search"] });
    expect(error.message).toBe('server_tools names browser_search, which model "qwen/qwen3.6-27b" cannot use');
  });

  it("a tool that is not one", async () => {
    await refused(h, token, { model: "openai/gpt-oss-120b", server_tools: ["web_fetch"] });
    await refused(h, token, { model: "openai/gpt-oss-120b", server_tools: ["browser_search", "browser_search"] });
  });

  it("when the server has them off (SERVER_TOOLS empty, the default), and its /models lists none", async () => {
    const error = await refused(off, offToken, { model: "openai/gpt-oss-120b", server_tools: ["code_interpreter"] });
    expect(error.message).toBe("server_tools names code_interpreter, which this server has turned off");
    expect(error.fields).toEqual([{ path: "body.server_tools", message: "server tools are off on this server (SERVER_TOOLS)" }]);
    const models = await call(off.app.api, "GET", "/models", { token: offToken });
    expect(models.body.data.map((m: any) => m.server_tools)).toEqual([[], [], []]);
  });
});


describe.skipIf(!postgresAvailable() && process.env.REQUIRE_POSTGRES !== "1")("server tools on PostgreSQL", () => {
  let pg: PostgresServer;
  let app: GroqApp;
  beforeAll(async () => {
    pg = await startPostgres();
    app = await started({ DATABASE_URL: pg.url, ALLOWED_MODELS: MODELS, SERVER_TOOLS: "browser_search" });
  }, 180_000);
  afterAll(async () => {
    await app?.close();
    await pg?.stop();
  }, 60_000);

  it("stores the blocks with the reply, lists them, and a resume replays them", async () => {
    const { token: tok } = await registerUser(app.app.api);
    const conv = await newConversation(app.app.api, tok);
    app.groq.enqueue(usingBuiltInTools(["Let me search."], [search], ["The Burj ", "Khalifa."], usage));
    const res = await send(app.app.api, tok, conv, { model: "openai/gpt-oss-120b", server_tools: ["browser_search"] });
    expect(res.status).toBe(200);
    const live = (await readSse(res)).filter((e) => e.event !== "ping");
    const [stored] = await replies(app.app.api, tok, conv);
    expect(stored.server_tools.map((b: any) => b.type)).toEqual(["server_tool_use", "web_search_tool_result"]);
    expect(stored.server_tools[1].content[0]).toMatchObject({ url: "https://example.com/burj", content: "828 m tall." });
    const replayed = (await readSse(await resumeStream(app.app.api, conv, stored.id, tok))).filter((e) => e.event !== "ping");
    expect(mergedDeltas(replayed)).toEqual(mergedDeltas(live));
  });
});
