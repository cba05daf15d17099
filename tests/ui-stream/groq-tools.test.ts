// useChat's client tools against real groq-sdk and the loopback Groq server: the model's parallel calls,
// streamed in fragments, become one tool part each with its input; the app's outputs go back, and what
// Groq then receives is the stored loop in its shape (the assistant's tool_calls, one tool message each).
import { randomUUID } from "node:crypto";
import { readUIMessageStream, type UIMessage } from "ai";
import { afterAll, beforeAll, expect, it } from "vitest";
import { calling, reply } from "../fixtures/groq-server";
import { startGroqApp, type GroqApp } from "../groq/harness";
import { registerUser } from "../support/http";
import { readAll, send, transportFor, userMessage } from "./client";

let g: GroqApp;
beforeAll(async () => {
  g = await startGroqApp({ ALLOWED_MODELS: "openai/gpt-oss-20b", GROQ_MAX_RETRIES: "0" });
});
afterAll(() => g.close());

const city = { type: "object", properties: { city: { type: "string" } }, required: ["city"] };
const tools = [
  { name: "get_weather", input_schema: city },
  { name: "get_time", input_schema: city },
];
const usage = { prompt_tokens: 30, completion_tokens: 12 };

it("parallel calls as tool parts; their outputs reach Groq as the assistant's tool_calls and tool messages", async () => {
  const { token } = await registerUser(g.app.api);
  const chatId = randomUUID();
  const transport = transportFor(g.app.api, token);
  const user = userMessage("Weather in Paris and time in Lima?");
  g.groq.enqueue(
    calling(
      [
        { id: "call_w", name: "get_weather", pieces: ['{"ci', 'ty":"Paris"}'] },
        { id: "call_t", name: "get_time", pieces: ['{"city":', '"Lima"}'] },
      ],
      usage,
    ),
  );
  const first = await readAll(await send(transport, chatId, [user], { body: { tools, tool_choice: "any" } }));
  expect(first.errors).toEqual([]);
  expect(g.groq.requests.at(-1)!.body.tool_choice).toBe("required");
  const parts = first.message.parts.filter((p) => p.type.startsWith("tool-")) as unknown as { type: string; toolCallId: string; state: string; input: unknown }[];
  expect(parts).toEqual([
    expect.objectContaining({ type: "tool-get_weather", toolCallId: "call_w", state: "input-available", input: { city: "Paris" } }),
    expect.objectContaining({ type: "tool-get_time", toolCallId: "call_t", state: "input-available", input: { city: "Lima" } }),
  ]);

  const outputs: Record<string, unknown> = { call_w: { celsius: 18 }, call_t: "09:30" };
  const answered: UIMessage = {
    ...first.message,
    parts: first.message.parts.map((p) => ("toolCallId" in p ? { ...p, state: "output-available", output: outputs[p.toolCallId as string] } : p)) as UIMessage["parts"],
  };
  g.groq.enqueue(reply(["Paris: 18°C; ", "Lima: 09:30."], usage));
  const stream = await transport.sendMessages({ chatId, messages: [user, answered], trigger: "submit-message", messageId: answered.id, abortSignal: undefined, body: { tools } });
  let final: UIMessage | undefined;
  for await (const m of readUIMessageStream({ message: answered, stream, terminateOnError: true })) final = m;
  expect(final!.parts.at(-1)).toMatchObject({ type: "text", text: "Paris: 18°C; Lima: 09:30." });

  expect(g.groq.requests.at(-1)!.body.messages).toEqual([
    { role: "user", content: "Weather in Paris and time in Lima?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_w", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        { id: "call_t", type: "function", function: { name: "get_time", arguments: '{"city":"Lima"}' } },
      ],
    },
    { role: "tool", tool_call_id: "call_w", content: '{"celsius":18}' },
    { role: "tool", tool_call_id: "call_t", content: "09:30" },
  ]);
});
