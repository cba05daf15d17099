// A client's tool loop through {host}/anthropic, written as the official SDK's users write it, against
// the offline model: it calls the first tool offered with arguments its schema accepts, and answers
// from a tool's result. The test runs the tool itself, as a client does.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { startApp, type TestApp } from "../support/app";
import { call } from "../support/http";
import { newCaller, usageByKind, type Caller } from "./clients";

let app: TestApp;
let caller: Caller;
let sdk: Anthropic;
const MODEL = "openai/gpt-oss-20b";

const WeatherInput = z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]) });
const tools: Anthropic.Tool[] = [
  { name: "get_weather", description: "The weather in a city", input_schema: z.toJSONSchema(WeatherInput) as Anthropic.Tool.InputSchema },
  { name: "get_time", description: "The time in a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
];

/** The tool as the client implements it: its input checked against its own schema. */
const getWeather = (input: unknown) => {
  const { city, unit } = WeatherInput.parse(input);
  return `It is 21 degrees ${unit} in ${city}`;
};

beforeAll(async () => {
  app = await startApp({ ALLOWED_MODELS: MODEL });
  caller = await newCaller(app.api);
  sdk = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
});
afterAll(() => app.close());

describe("@anthropic-ai/sdk tool use at {host}/anthropic", () => {
  it("messages.create: tool_use, the tool run by the client, tool_result, the final text; stored nowhere", async () => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await sdk.messages.create({ model: MODEL, max_tokens: 1024, tools, messages });
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
    expect(use).toMatchObject({ name: "get_weather", id: expect.any(String) });
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "tool_use"]);

    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use!.id, content: getWeather(use!.input) }] });
    const final = await sdk.messages.create({ model: MODEL, max_tokens: 1024, tools, messages });
    expect(final.stop_reason).toBe("end_turn");
    const text = final.content.find((b): b is Anthropic.TextBlock => b.type === "text");
    expect(text?.text).toContain("It is 21 degrees celsius in example");
    // The history's tool call and result are part of the prompt the second call counted.
    expect(final.usage.input_tokens).toBeGreaterThan(first.usage.input_tokens);
    expect((await call(app.api, "GET", "/conversations", { token: caller.token })).body.data).toEqual([]);
  });

  it("messages.stream: the SDK accumulates input_json_delta into the tool_use block's parsed input", async () => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather?" }];
    const stream = sdk.messages.stream({ model: MODEL, max_tokens: 1024, tools, messages });
    const pieces: string[] = [];
    stream.on("inputJson", (partial) => pieces.push(partial));
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
    expect(use.input).toEqual({ city: "example", unit: "celsius" });
    expect(pieces.length).toBeGreaterThan(1);
    expect(JSON.parse(pieces.join(""))).toEqual(use.input);

    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: [{ type: "text", text: getWeather(use.input) }] }] });
    const final = await sdk.messages.stream({ model: MODEL, max_tokens: 1024, tools, messages }).finalMessage();
    expect(final.stop_reason).toBe("end_turn");
    expect(final.content.at(-1)).toMatchObject({ type: "text", text: expect.stringContaining("It is 21 degrees celsius in example") });
  });

  it("the raw stream: content_block_start tool_use, input_json_delta, message_delta with stop_reason tool_use", async () => {
    const stream = await sdk.messages.create({ model: MODEL, max_tokens: 1024, tools, tool_choice: { type: "tool", name: "get_time" }, messages: [{ role: "user", content: "Time?" }], stream: true });
    const seen: string[] = [];
    let json = "";
    for await (const e of stream) {
      if (e.type === "content_block_start") seen.push(e.content_block.type);
      if (e.type === "content_block_start" && e.content_block.type === "tool_use") expect(e.content_block).toMatchObject({ name: "get_time", input: {} });
      if (e.type === "content_block_delta" && e.delta.type === "input_json_delta") json += e.delta.partial_json;
      if (e.type === "message_delta") expect(e.delta.stop_reason).toBe("tool_use");
    }
    expect(seen).toEqual(["thinking", "tool_use"]);
    expect(JSON.parse(json)).toEqual({ city: "example" });
  });

  it("tool_choice none answers in text; an error result reaches the model as one", async () => {
    const none = await sdk.messages.create({ model: MODEL, max_tokens: 1024, tools, tool_choice: { type: "none" }, messages: [{ role: "user", content: "No tools" }] });
    expect(none.stop_reason).toBe("end_turn");
    expect(none.content.map((b) => b.type)).toEqual(["thinking", "text"]);

    const failed = await sdk.messages.create({
      model: MODEL,
      max_tokens: 1024,
      tools,
      messages: [
        { role: "user", content: "Weather?" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo", unit: "celsius" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "the weather service is down", is_error: true }] },
      ],
    });
    expect(failed.content.at(-1)).toMatchObject({ type: "text", text: expect.stringContaining('The tool failed with: "the weather service is down"') });
  });

  it("messages.countTokens counts the tools and the tool turns, as message_start does", async () => {
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Count me" }];
    const bare = await sdk.messages.countTokens({ model: MODEL, messages });
    const withTools = await sdk.messages.countTokens({ model: MODEL, messages, tools });
    expect(withTools.input_tokens).toBeGreaterThan(bare.input_tokens);
    const msg = await sdk.messages.create({ model: MODEL, max_tokens: 64, messages, tools });
    expect(msg.usage.input_tokens).toBe(withTools.input_tokens);

    const loop: Anthropic.MessageParam[] = [
      ...messages,
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "get_time", input: { city: "Lima" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "12:00" }] },
    ];
    expect((await sdk.messages.countTokens({ model: MODEL, messages: loop, tools })).input_tokens).toBeGreaterThan(withTools.input_tokens);
  });

  it("bound to a conversation (x-conversation-id): the call and its results are stored as a native tool loop", async () => {
    const conv = await call(app.api, "POST", "/conversations", { token: caller.token, body: {} });
    const options = { headers: { "x-conversation-id": conv.body.id } };
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather?" }];
    const first = await sdk.messages.create({ model: MODEL, max_tokens: 1024, tools, messages }, options);
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
    messages.push({ role: "assistant", content: first.content });
    messages.push({ role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: getWeather(use.input) }] });
    const final = await sdk.messages.create({ model: MODEL, max_tokens: 1024, tools, messages }, options);
    expect(final.content.at(-1)).toMatchObject({ type: "text", text: expect.stringContaining("It is 21 degrees celsius in example") });

    const stored = (await call(app.api, "GET", `/conversations/${conv.body.id}/messages?limit=100`, { token: caller.token })).body.data as any[];
    expect(stored.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(stored[1]).toMatchObject({ id: first.id, finish_reason: "tool_use", tool_use: [{ type: "tool_use", id: use.id, name: "get_weather", input: use.input }] });
    expect(stored[2]).toMatchObject({
      content: "",
      tool_result: [{ type: "tool_result", tool_use_id: use.id, content: "It is 21 degrees celsius in example", is_error: false }],
    });
    expect(stored[3].id).toBe(final.id);

    // A result answering no call of the stored reply is the send's refusal, in Anthropic's shape.
    const wrong = await sdk.messages
      .create({ model: MODEL, max_tokens: 64, tools, messages: [...messages, { role: "assistant", content: final.content }, { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_nope", content: "1" }] }] }, options)
      .catch((e) => e);
    expect(wrong).toBeInstanceOf(Anthropic.BadRequestError);
    expect(wrong.error.error.message).toContain("toolu_nope");
  });

  it("a malformed tool loop is Anthropic's 400 invalid_request_error naming the field, and charges nothing", async () => {
    const fresh = await newCaller(app.api);
    const client = new Anthropic({ baseURL: `${app.url}/anthropic`, apiKey: fresh.key, maxRetries: 0 });
    const cases: [Anthropic.MessageCreateParamsNonStreaming, string][] = [
      // A result answering no call of the turn before it.
      [{ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_x", content: "1" }] }] }, "messages.0"],
      [{ model: MODEL, max_tokens: 8, tools, tool_choice: { type: "tool", name: "nope" }, messages: [{ role: "user", content: "x" }] }, "tool_choice"],
      [{ model: MODEL, max_tokens: 8, tool_choice: { type: "any" }, messages: [{ role: "user", content: "x" }] }, "tool_choice"],
      [{ model: MODEL, max_tokens: 8, tools: [{ name: "bad name!", input_schema: { type: "object" } }], messages: [{ role: "user", content: "x" }] }, "tools.0.name"],
      [{ model: MODEL, max_tokens: 8, tools: [{ name: "t", input_schema: { type: "string" } as never }], messages: [{ role: "user", content: "x" }] }, "tools.0.input_schema"],
      [{ model: MODEL, max_tokens: 8, messages: [{ role: "user", content: [{ type: "tool_use", id: "a", name: "t", input: {} }] }] }, "messages.0.content.0.type"],
    ];
    for (const [body, field] of cases) {
      const e = await client.messages.create(body).catch((x) => x);
      expect(e, field).toBeInstanceOf(Anthropic.BadRequestError);
      expect(e.error, field).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining(field) } });
    }
    expect(await usageByKind(app.api, fresh.token)).toEqual({});
  });
});
