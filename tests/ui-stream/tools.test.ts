// A useChat app's client tool loop against the offline model, through the AI SDK's own client:
// DefaultChatTransport with the tools in its body, readUIMessageStream building the assistant message.
// The model calls the tool; the app runs it and sends the message back with the tool part's output (as
// useChat's addToolOutput does); the reply to that continues the same message as its next step.
import { randomUUID } from "node:crypto";
import { lastAssistantMessageIsCompleteWithToolCalls, readUIMessageStream, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startApp, type TestApp } from "../support/app";
import { call, registerUser } from "../support/http";
import { readAll, send, transportFor, userMessage } from "./client";

let app: TestApp;
beforeAll(async () => {
  app = await startApp({ OFFLINE_TOKEN_DELAY_MS: "0", ALLOWED_MODELS: "openai/gpt-oss-20b" });
});
afterAll(() => app.close());

const tools = [
  {
    name: "get_weather",
    description: "The weather in a city",
    input_schema: { type: "object", properties: { city: { type: "string" }, unit: { type: "string", enum: ["celsius", "fahrenheit"] } }, required: ["city", "unit"] },
  },
];

type ToolPart = { type: string; toolCallId: string; state: string; input?: unknown; output?: unknown; errorText?: string };
const toolParts = (m: UIMessage) => m.parts.filter((p) => p.type.startsWith("tool-")) as unknown as ToolPart[];

/** Continues `message` with the stream, as useChat does when the last message is the assistant's. */
async function continueWith(message: UIMessage, stream: ReadableStream<UIMessageChunk>): Promise<{ message: UIMessage; chunks: UIMessageChunk[] }> {
  const chunks: UIMessageChunk[] = [];
  const tapped = stream.pipeThrough(new TransformStream<UIMessageChunk, UIMessageChunk>({ transform: (c, ctl) => (chunks.push(c), ctl.enqueue(c)) }));
  let last: UIMessage | undefined;
  for await (const m of readUIMessageStream({ message, stream: tapped, terminateOnError: true })) last = m;
  return { message: last!, chunks };
}

const stored = async (token: string, conversationId: string) =>
  (await call(app.api, "GET", `/conversations/${conversationId}/messages?limit=100`, { token })).body.data as any[];

describe("client tools through POST /api/v1/chat", () => {
  it("a tool part with its input; its output sent back continues the message with the final text", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    const user = userMessage("What is the weather in Paris?");
    const first = await readAll(await send(transport, chatId, [user], { body: { tools } }));
    expect(first.errors).toEqual([]);
    expect(first.chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "tool-calls" });
    const order = first.chunks.map((c) => c.type).filter((t, i, a) => t !== a[i - 1] && !t.startsWith("reasoning"));
    expect(order).toEqual(["start", "tool-input-start", "tool-input-delta", "tool-input-available", "finish"]);
    const [call1] = toolParts(first.message);
    expect(call1).toMatchObject({ type: "tool-get_weather", state: "input-available", input: { city: "example", unit: "celsius" } });
    const [, reply] = await stored(token, chatId);
    expect(reply.tool_use).toEqual([{ type: "tool_use", id: call1!.toolCallId, name: "get_weather", input: { city: "example", unit: "celsius" } }]);
    // The app's sendAutomaticallyWhen sees a call without its output yet: nothing is sent.
    expect(lastAssistantMessageIsCompleteWithToolCalls({ messages: [user, first.message] })).toBe(false);

    // The app runs the tool and records its output on the part, as addToolOutput does.
    const answered: UIMessage = {
      ...first.message,
      parts: first.message.parts.map((p) => (p.type === "tool-get_weather" ? { ...p, state: "output-available", output: { temperature: 21 } } : p)) as UIMessage["parts"],
    };
    expect(lastAssistantMessageIsCompleteWithToolCalls({ messages: [user, answered] })).toBe(true);
    const stream = await transport.sendMessages({ chatId, messages: [user, answered], trigger: "submit-message", messageId: answered.id, abortSignal: undefined, body: { tools } });
    const second = await continueWith(answered, stream);

    expect(second.chunks.at(-1)).toMatchObject({ type: "finish", finishReason: "stop" });
    expect(second.chunks.slice(0, 2).map((c) => c.type)).toEqual(["start", "start-step"]);
    const types = second.message.parts.map((p) => p.type);
    expect(types).toEqual(["reasoning", "tool-get_weather", "step-start", "reasoning", "text"]);
    const text = second.message.parts.at(-1) as { text: string };
    expect(text.text).toContain('The tool returned: "{"temperature":21}"');
    // The final text after the step: nothing more to send automatically.
    expect(lastAssistantMessageIsCompleteWithToolCalls({ messages: [user, second.message] })).toBe(false);

    const all = await stored(token, chatId);
    expect(all.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(all[2].tool_result).toEqual([{ type: "tool_result", tool_use_id: call1!.toolCallId, content: '{"temperature":21}', is_error: false }]);
    // The message keeps its id (the first step's reply); the step names its own stored reply.
    expect(second.message.id).toBe(all[1].id);
    expect(second.chunks[0]).toEqual({ type: "start", messageMetadata: { conversation_id: chatId, model: all[3].model, reply_id: all[3].id } });
  });

  it("an output-error goes back as an error result; a call without its output is refused", async () => {
    const { token } = await registerUser(app.api);
    const chatId = randomUUID();
    const transport = transportFor(app.api, token);
    const user = userMessage("Weather?");
    const first = await readAll(await send(transport, chatId, [user], { body: { tools } }));
    const [part] = toolParts(first.message);

    const pending = await transport
      .sendMessages({ chatId, messages: [user, first.message], trigger: "submit-message", messageId: first.message.id, abortSignal: undefined, body: { tools } })
      .catch((e: Error) => e);
    expect(pending).toBeInstanceOf(Error);
    expect((pending as Error).message).toContain("every tool call needs its output");

    const failed: UIMessage = {
      ...first.message,
      parts: first.message.parts.map((p) => (p.type === "tool-get_weather" ? { ...p, state: "output-error", errorText: "service down" } : p)) as UIMessage["parts"],
    };
    const second = await continueWith(
      failed,
      await transport.sendMessages({ chatId, messages: [user, failed], trigger: "submit-message", messageId: failed.id, abortSignal: undefined, body: { tools } }),
    );
    expect((second.message.parts.at(-1) as { text: string }).text).toContain('The tool failed with: "service down"');
    const all = await stored(token, chatId);
    expect(all[2].tool_result).toEqual([{ type: "tool_result", tool_use_id: part!.toolCallId, content: "service down", is_error: true }]);
  });
});
