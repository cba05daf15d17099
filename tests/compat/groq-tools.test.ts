// Both clients' tool loops against the real groq-sdk path: the loopback Groq server streams parallel
// tool calls in fragments, and each test checks what the client reads and what reached Groq on the
// next call (the functions offered, the choice, the assistant's tool_calls and the tool messages).
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calling, reply } from "../fixtures/groq-server";
import { startGroqApp, type GroqApp } from "../groq/harness";
import { newCaller, type Caller } from "./clients";

let h: GroqApp;
let caller: Caller;
const MODEL = "openai/gpt-oss-20b";
const usage = { prompt_tokens: 60, completion_tokens: 20 };

const citySchema = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
/** Two calls in one answer, each call's arguments cut mid-token across chunks. */
const parallel = calling(
  [
    { id: "call_w", name: "get_weather", pieces: ['{"ci', 'ty":"Pa', 'ris"}'] },
    { id: "call_t", name: "get_time", pieces: ['{"city"', ':"Lima"}'] },
  ],
  usage,
);

beforeAll(async () => {
  h = await startGroqApp({ ALLOWED_MODELS: MODEL, GROQ_MAX_RETRIES: "0" });
  caller = await newCaller(h.app.api);
});
afterAll(() => h.close());

describe("tool loops through Groq", () => {
  it("openai: streamed parallel tool_calls accumulate per index; Groq gets the functions, the assistant's tool_calls and the tool messages", async () => {
    const sdk = new OpenAI({ baseURL: `${h.app.url}/openai/v1`, apiKey: caller.key, maxRetries: 0 });
    const tools: OpenAI.ChatCompletionFunctionTool[] = [
      { type: "function", function: { name: "get_weather", description: "Weather", parameters: citySchema } },
      { type: "function", function: { name: "get_time", parameters: citySchema } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris, time in Lima?" }];

    h.groq.enqueue(parallel);
    const first = h.groq.nextRequest();
    const calls: { id: string; name: string; arguments: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of await sdk.chat.completions.create({ model: MODEL, tools, tool_choice: "required", messages, stream: true })) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        if (d.id) calls[d.index] = { id: d.id, name: d.function!.name!, arguments: "" };
        calls[d.index]!.arguments += d.function?.arguments ?? "";
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    expect(calls).toEqual([
      { id: "call_w", name: "get_weather", arguments: '{"city":"Paris"}' },
      { id: "call_t", name: "get_time", arguments: '{"city":"Lima"}' },
    ]);
    expect((await first).body).toMatchObject({
      tools: [
        { type: "function", function: { name: "get_weather", description: "Weather", parameters: citySchema } },
        { type: "function", function: { name: "get_time", parameters: citySchema } },
      ],
      tool_choice: "required",
    });

    messages.push({ role: "assistant", content: null, tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) });
    messages.push({ role: "tool", tool_call_id: "call_w", content: "18 degrees" });
    messages.push({ role: "tool", tool_call_id: "call_t", content: "09:30" });
    h.groq.enqueue(reply(["Paris: 18 degrees; ", "Lima: 09:30."], usage));
    const second = h.groq.nextRequest();
    const final = await sdk.chat.completions.create({ model: MODEL, tools, messages });
    expect(final.choices[0]!.message.content).toBe("Paris: 18 degrees; Lima: 09:30.");
    expect(final.choices[0]!.finish_reason).toBe("stop");
    expect((await second).body.messages).toEqual([
      { role: "user", content: "Weather in Paris, time in Lima?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_w", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_t", type: "function", function: { name: "get_time", arguments: '{"city":"Lima"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_w", content: "18 degrees" },
      { role: "tool", tool_call_id: "call_t", content: "09:30" },
    ]);
  });

  it("anthropic: the parallel calls as tool_use blocks with parsed input; tool_results reach Groq as tool messages", async () => {
    const sdk = new Anthropic({ baseURL: `${h.app.url}/anthropic`, apiKey: caller.key, maxRetries: 0 });
    const tools: Anthropic.Tool[] = [
      { name: "get_weather", input_schema: citySchema as Anthropic.Tool.InputSchema },
      { name: "get_time", input_schema: citySchema as Anthropic.Tool.InputSchema },
    ];
    const messages: Anthropic.MessageParam[] = [{ role: "user", content: "Weather and time?" }];

    h.groq.enqueue(parallel);
    const first = h.groq.nextRequest();
    const msg = await sdk.messages.stream({ model: MODEL, max_tokens: 500, tools, tool_choice: { type: "tool", name: "get_time" }, messages }).finalMessage();
    expect(msg.stop_reason).toBe("tool_use");
    expect(msg.content).toEqual([
      { type: "tool_use", id: "call_w", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_t", name: "get_time", input: { city: "Lima" } },
    ]);
    expect((await first).body.tool_choice).toEqual({ type: "function", function: { name: "get_time" } });

    messages.push({ role: "assistant", content: msg.content });
    messages.push({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "call_w", content: "18 degrees" },
        { type: "tool_result", tool_use_id: "call_t", content: "no clock", is_error: true },
        { type: "text", text: "Summarise." },
      ],
    });
    h.groq.enqueue(reply(["Done."], usage));
    const second = h.groq.nextRequest();
    const final = await sdk.messages.create({ model: MODEL, max_tokens: 500, tools, messages });
    expect(final.content).toEqual([{ type: "text", text: "Done." }]);
    expect((await second).body.messages).toEqual([
      { role: "user", content: "Weather and time?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_w", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_t", type: "function", function: { name: "get_time", arguments: '{"city":"Lima"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_w", content: "18 degrees" },
      { role: "tool", tool_call_id: "call_t", content: "Error: no clock" },
      { role: "user", content: "Summarise." },
    ]);
  });
});
