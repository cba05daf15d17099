// A client's tool loop through {host}/openai/v1, written as the official SDK's users write it, against
// the offline model: it calls the first function offered with arguments its schema accepts, and answers
// from a tool message. The test runs the function itself, as a client does.
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { startApp, type TestApp } from "../support/app";
import { call } from "../support/http";
import { newCaller, usageByKind, type Caller } from "./clients";

let app: TestApp;
let caller: Caller;
let sdk: OpenAI;
const MODEL = "openai/gpt-oss-20b";

const WeatherArgs = z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]) });
const tools: OpenAI.ChatCompletionFunctionTool[] = [
  { type: "function", function: { name: "get_weather", description: "The weather in a city", parameters: z.toJSONSchema(WeatherArgs) as OpenAI.FunctionParameters } },
  { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } } },
];

/** The function as the client implements it: its arguments parsed and checked against its own schema. */
const getWeather = (args: string) => {
  const { city, unit } = WeatherArgs.parse(JSON.parse(args));
  return `It is 21 degrees ${unit} in ${city}`;
};

beforeAll(async () => {
  app = await startApp({ ALLOWED_MODELS: MODEL });
  caller = await newCaller(app.api);
  sdk = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: caller.key, maxRetries: 0 });
});
afterAll(() => app.close());

describe("openai tool calls at {host}/openai/v1", () => {
  it("not streamed: message.tool_calls, the function run by the client, a tool message, the final text", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "What is the weather in Paris?" }];
    const first = await sdk.chat.completions.create({ model: MODEL, tools, messages });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    const tc = choice.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(tc).toMatchObject({ type: "function", id: expect.any(String), function: { name: "get_weather" } });

    messages.push(choice.message);
    messages.push({ role: "tool", tool_call_id: tc.id, content: getWeather(tc.function.arguments) });
    const final = await sdk.chat.completions.create({ model: MODEL, tools, messages });
    expect(final.choices[0]!.finish_reason).toBe("stop");
    expect(final.choices[0]!.message.content).toContain("It is 21 degrees celsius in example");
    expect(final.usage!.prompt_tokens).toBeGreaterThan(first.usage!.prompt_tokens);
    expect((await call(app.api, "GET", "/conversations", { token: caller.token })).body.data).toEqual([]);
  });

  it("streamed: the client accumulates delta.tool_calls (index, id, name, then argument pieces) and loops", async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather?" }];
    const stream = await sdk.chat.completions.create({ model: MODEL, tools, messages, stream: true });
    const calls: { id: string; name: string; arguments: string }[] = [];
    let finish: string | null = null;
    let argumentChunks = 0;
    for await (const chunk of stream) {
      const c = chunk.choices[0];
      if (!c) continue;
      for (const d of c.delta.tool_calls ?? []) {
        if (d.id) {
          expect(d).toMatchObject({ type: "function", function: { name: expect.any(String) } });
          calls[d.index] = { id: d.id, name: d.function!.name!, arguments: "" };
        }
        if (d.function?.arguments) {
          calls[d.index]!.arguments += d.function.arguments;
          argumentChunks++;
        }
      }
      finish = c.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.name).toBe("get_weather");
    expect(argumentChunks).toBeGreaterThan(1);

    messages.push({ role: "assistant", tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) });
    messages.push({ role: "tool", tool_call_id: calls[0]!.id, content: getWeather(calls[0]!.arguments) });
    let text = "";
    for await (const chunk of await sdk.chat.completions.create({ model: MODEL, tools, messages, stream: true })) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) expect(chunk.choices[0].finish_reason).toBe("stop");
    }
    expect(text).toContain("It is 21 degrees celsius in example");
  });

  it("chat.completions.stream(...).finalChatCompletion() accumulates the tool call; runTools runs the whole loop", async () => {
    const final = await sdk.chat.completions
      .stream({ model: MODEL, tools, tool_choice: { type: "function", function: { name: "get_time" } }, messages: [{ role: "user", content: "Time?" }] })
      .finalChatCompletion();
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    const tc = final.choices[0]!.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(tc.function.name).toBe("get_time");
    expect(JSON.parse(tc.function.arguments)).toEqual({ city: "example" });

    const ran: unknown[] = [];
    const runner = sdk.chat.completions.runTools({
      model: MODEL,
      stream: true,
      messages: [{ role: "user", content: "Weather in Rome?" }],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "The weather in a city",
            parameters: z.toJSONSchema(WeatherArgs) as OpenAI.FunctionParameters,
            parse: (s: string) => WeatherArgs.parse(JSON.parse(s)),
            function: (args: z.infer<typeof WeatherArgs>) => {
              ran.push(args);
              return `It is 21 degrees ${args.unit} in ${args.city}`;
            },
          },
        },
      ],
    });
    expect(await runner.finalContent()).toContain("It is 21 degrees celsius in example");
    expect(ran).toEqual([{ city: "example", unit: "celsius" }]);
  });

  it("tool_choice none and required map onto the model's choice", async () => {
    const none = await sdk.chat.completions.create({ model: MODEL, tools, tool_choice: "none", messages: [{ role: "user", content: "No tools" }] });
    expect(none.choices[0]!.finish_reason).toBe("stop");
    expect(none.choices[0]!.message.tool_calls).toBeUndefined();
    const required = await sdk.chat.completions.create({ model: MODEL, tools, tool_choice: "required", messages: [{ role: "user", content: "Some tool" }] });
    expect(required.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("a malformed tool loop is OpenAI's 400 naming the param, and charges nothing", async () => {
    const fresh = await newCaller(app.api);
    const client = new OpenAI({ baseURL: `${app.url}/openai/v1`, apiKey: fresh.key, maxRetries: 0 });
    const user = { role: "user" as const, content: "x" };
    const cases: [OpenAI.ChatCompletionCreateParamsNonStreaming, string][] = [
      [{ model: MODEL, messages: [user, { role: "tool", tool_call_id: "call_x", content: "1" }] }, "messages.1"],
      [{ model: MODEL, tools, tool_choice: { type: "function", function: { name: "nope" } }, messages: [user] }, "tool_choice"],
      [{ model: MODEL, tool_choice: "required", messages: [user] }, "tool_choice"],
      [{ model: MODEL, tools: [{ type: "function", function: { name: "t", parameters: { type: "array" } } }], messages: [user] }, "tools.0.function.parameters"],
      [{ model: MODEL, messages: [{ role: "tool", content: "x" } as never] }, "messages.0"],
    ];
    for (const [body, param] of cases) {
      const e = await client.chat.completions.create(body).catch((x) => x);
      expect(e, param).toBeInstanceOf(OpenAI.BadRequestError);
      expect(e.error, param).toMatchObject({ type: "invalid_request_error", param: expect.stringContaining(param) });
    }
    expect(await usageByKind(app.api, fresh.token)).toEqual({});
  });
});
