// Client tool definitions on a send or a regenerate, through the real app and the real groq-sdk against
// the loopback Groq server: mapped to Groq's `tools` / `tool_choice`, counted in the prompt (and so in
// the budget's reservation), and refused with a 422 naming the tool, before anything is stored.
import { estimateTokens } from "@conversation-api/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { call, readSse, registerUser, stream } from "../support/http";
import { messages, newConversation, startGroqApp, type GroqApp } from "../groq/harness";

const BUDGET = 20_000;
let h: GroqApp;
let api: string;
// One user for the file (registering hashes a password, slow on a loaded machine); each test has its own conversations.
let token: string;
beforeAll(async () => {
  h = await startGroqApp({ DAILY_TOKEN_BUDGET: String(BUDGET) });
  api = h.app.api;
  ({ token } = await registerUser(api));
});
afterAll(() => h.close());

const weather = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};
const time = { name: "get_time", input_schema: { type: "object", properties: {} } };
const usage = { prompt_tokens: 10, completion_tokens: 2 };

const inputTokens = (events: Awaited<ReturnType<typeof readSse>>) => events[0]!.data.message.usage.input_tokens as number;

describe("tool definitions", () => {
  it("reach Groq as function tools, and each tool_choice in Groq's terms", async () => {
    const conv = await newConversation(api, token);
    const choices = [
      [undefined, undefined],
      ["auto", "auto"],
      ["any", "required"],
      ["none", "none"],
      [{ type: "tool", name: "get_time" }, { type: "function", function: { name: "get_time" } }],
    ] as const;
    for (const [choice, groqChoice] of choices) {
      h.groq.enqueue(reply(["ok"], usage));
      const res = await stream(api, conv, token, { content: "weather?", tools: [weather, time], ...(choice ? { tool_choice: choice } : {}) });
      expect(res.status).toBe(200);
      await readSse(res);
      const sent = h.groq.requests.at(-1)!.body;
      expect(sent.tools).toEqual([
        { type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: weather.input_schema } },
        { type: "function", function: { name: "get_time", parameters: time.input_schema } },
      ]);
      if (groqChoice === undefined) expect(sent).not.toHaveProperty("tool_choice");
      else expect(sent.tool_choice).toEqual(groqChoice);
    }
  });

  it("sends no tools when none are offered", async () => {
    const conv = await newConversation(api, token);
    h.groq.enqueue(reply(["ok"], usage));
    await readSse(await stream(api, conv, token, { content: "hi", tool_choice: "none" }));
    const sent = h.groq.requests.at(-1)!.body;
    expect(sent).not.toHaveProperty("tools");
    expect(sent).not.toHaveProperty("tool_choice");
  });

  it("count in the prompt's tokens and in the budget's reservation", async () => {
    const tools = [weather, time];
    const plain = await newConversation(api, token);
    h.groq.enqueue(reply(["ok"], usage), reply(["ok"], usage));
    const without = inputTokens(await readSse(await stream(api, plain, token, { content: "weather?" })));
    const withTools = await newConversation(api, token);
    const events = await readSse(await stream(api, withTools, token, { content: "weather?", tools }));
    expect(inputTokens(events) - without).toBe(estimateTokens(JSON.stringify(tools)));
    const [, stored] = await messages(api, token, withTools);
    expect(stored.input_tokens).toBe(inputTokens(events));

    // A send that fits the day's budget without its tools does not fit with them: 429, nothing sent.
    const big = [{ ...weather, description: "x".repeat(6_000) }];
    const before = h.groq.requests.length;
    const maxTokens = BUDGET - without - 100;
    const fits = await newConversation(api, token);
    const refused = await call(api, "POST", `/conversations/${fits}/messages/stream`, { token, body: { content: "weather?", tools: big, max_tokens: maxTokens } });
    expect(refused.status).toBe(429);
    expect(refused.body.error.message).toContain(`a ${without + estimateTokens(JSON.stringify(big))}-token prompt`);
    expect(h.groq.requests.length).toBe(before);
    expect(await messages(api, token, fits)).toEqual([]);
  });

  it("are accepted by a regenerate too", async () => {
    const conv = await newConversation(api, token);
    h.groq.enqueue(reply(["first"], usage), reply(["second"], usage));
    await readSse(await stream(api, conv, token, { content: "weather?" }));
    const [, answer] = await messages(api, token, conv);
    const res = await fetch(`${api}/conversations/${conv}/messages/${answer.id}/regenerate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ tools: [weather], tool_choice: "any" }),
    });
    expect(res.status).toBe(200);
    await readSse(res);
    const sent = h.groq.requests.at(-1)!.body;
    expect(sent.tools.map((t: any) => t.function.name)).toEqual(["get_weather"]);
    expect(sent.tool_choice).toBe("required");
  });
});

describe("bad tool definitions are a 422, with nothing stored or sent", () => {
  const cases: [string, Record<string, unknown>, string, string][] = [
    ["an input_schema that is not an object schema", { tools: [weather, { name: "bad_tool", input_schema: { type: "string" } }] }, "body.tools.1.input_schema", 'tool "bad_tool"'],
    ["an input_schema that is not an object", { tools: [{ name: "bad_tool", input_schema: "{}" }] }, "body.tools.0.input_schema", ""],
    ["properties that are not schemas", { tools: [{ name: "bad_tool", input_schema: { type: "object", properties: { a: 3 } } }] }, "body.tools.0.input_schema", 'tool "bad_tool"'],
    ["required that is not a list of names", { tools: [{ name: "bad_tool", input_schema: { type: "object", required: "a" } }] }, "body.tools.0.input_schema", 'tool "bad_tool"'],
    ["a duplicate name", { tools: [weather, time, weather] }, "body.tools.2.name", 'tool "get_weather" is defined twice'],
    ["more than 128 tools", { tools: Array.from({ length: 129 }, (_, i) => ({ ...time, name: `t${i}` })) }, "body.tools", "at most 128"],
    ["a name that is not a tool name", { tools: [{ ...time, name: "get time" }] }, "body.tools.0.name", ""],
    ["a tool_choice naming no offered tool", { tools: [weather], tool_choice: { type: "tool", name: "get_time" } }, "body.tool_choice.name", "get_weather"],
    ['tool_choice "any" without tools', { tool_choice: "any" }, "body.tool_choice", ""],
    ["an unknown tool_choice", { tools: [weather], tool_choice: "sometimes" }, "body.tool_choice", ""],
  ];
  it.each(cases)("%s", async (_, extra, path, says) => {
    const conv = await newConversation(api, token);
    const before = h.groq.requests.length;
    const r = await call(api, "POST", `/conversations/${conv}/messages/stream`, { token, body: { content: "hi", ...extra } });
    expect(r.status).toBe(422);
    expect(r.body.error.type).toBe("validation_error");
    expect(r.body.error.fields.map((f: any) => f.path)).toContain(path);
    expect(r.body.error.message).toContain(says);
    expect(h.groq.requests.length).toBe(before);
    expect(await messages(api, token, conv)).toEqual([]);
  });
});
