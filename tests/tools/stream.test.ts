// Tool calls streamed by the real groq-sdk from the loopback Groq server (fragmented and parallel
// `delta.tool_calls`), through the real app: Anthropic tool_use blocks with input_json_delta pieces,
// stop_reason "tool_use", the calls stored with the reply in order (listed, exported), and a resume
// from any event, mid tool_use included, that replays exactly the rest.
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { calling, type Scenario } from "../fixtures/groq-server";
import { captureConsoleErrors } from "../support/console";
import { call, mergedDeltas, readSse, registerUser, stream, type SseEvent } from "../support/http";
import { errorOf, messages, names, newConversation, replies, startGroqApp, textOf, type GroqApp } from "../groq/harness";

let h: GroqApp;
let api: string;
let token: string;
beforeAll(async () => {
  h = await startGroqApp();
  api = h.app.api;
  ({ token } = await registerUser(api));
});
afterAll(() => h.close());

const tools = [
  { name: "get_weather", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "get_time", input_schema: { type: "object", properties: { zone: { type: "string" } } } },
];
const usage = { prompt_tokens: 40, completion_tokens: 18 };
const weather = { id: "call_w1", name: "get_weather", pieces: ['{"ci', 'ty": "Pa', 'ris"}'] };
const time = { id: "call_t2", name: "get_time", pieces: ['{"zone"', ': "Europe/Paris"}'] };

const inputOf = (events: SseEvent[], index: number) =>
  events
    .filter((e) => e.event === "content_block_delta" && e.data.index === index)
    .map((e) => e.data.delta.partial_json)
    .join("");


async function send(conv: string, scenario: Scenario): Promise<SseEvent[]> {
  h.groq.enqueue(scenario);
  const res = await stream(api, conv, token, { content: "Weather and time in Paris?", tools });
  expect(res.status).toBe(200);
  return readSse(res);
}

describe("a reply that calls tools", () => {
  it("streams text, then one tool_use block per parallel call, and ends with stop_reason tool_use", async () => {
    const conv = await newConversation(api, token);
    const events = await send(conv, calling([weather, time], usage, ["Let me ", "check."]));

    expect(names(events)).toEqual([
      "message_start",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop",
      "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => e.data);
    expect(starts).toEqual([
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "call_w1", name: "get_weather", input: {} } },
      { type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "call_t2", name: "get_time", input: {} } },
    ]);
    expect(events.filter((e) => e.event === "content_block_stop").map((e) => e.data.index)).toEqual([0, 1, 2]);
    expect(textOf(events.filter((e) => e.data.index === 0))).toBe("Let me check.");
    expect(inputOf(events, 1)).toBe('{"city": "Paris"}');
    expect(inputOf(events, 2)).toBe('{"zone": "Europe/Paris"}');
    expect(events.find((e) => e.event === "message_delta")!.data).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { output_tokens: 18 },
    });
    // Ids strictly increase (every event but ping carries one).
    const ids = events.map((e) => Number(e.id));
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);

    const [stored] = await replies(api, token, conv);
    expect(stored).toMatchObject({
      content: "Let me check.",
      finish_reason: "tool_use",
      token_count: 18,
      tool_use: [
        { type: "tool_use", id: "call_w1", name: "get_weather", input: { city: "Paris" } },
        { type: "tool_use", id: "call_t2", name: "get_time", input: { zone: "Europe/Paris" } },
      ],
    });
    // The user message reads as it always did.
    const [asked] = await messages(api, token, conv);
    expect(asked).not.toHaveProperty("tool_use");

    const exported = await call(api, "GET", `/conversations/${conv}/export?format=json`, { token });
    expect(exported.status).toBe(200);
    const reply = exported.body.messages.find((m: any) => m.role === "assistant");
    expect(reply.tool_use).toEqual(stored.tool_use);
    const markdown = await fetch(`${api}/conversations/${conv}/export?format=markdown`, { headers: { authorization: `Bearer ${token}` } });
    expect(await markdown.text()).toContain("**Tool call** `get_weather` (call_w1)");
  });

  it("without text, starts its first tool_use block at index 0; a call in one piece and two calls in one chunk read the same", async () => {
    const conv = await newConversation(api, token);
    const events = await send(conv, {
      steps: [
        { toolCalls: [{ index: 0, id: "call_a", name: "get_time", arguments: "{}" }, { index: 1, id: "call_b", name: "get_weather", arguments: '{"city"' }] },
        { toolCalls: [{ index: 1, arguments: ':"Oslo"}' }] },
        { finish: "tool_calls", usage },
        { done: true },
      ],
    });
    const starts = events.filter((e) => e.event === "content_block_start").map((e) => [e.data.index, e.data.content_block.id]);
    expect(starts).toEqual([[0, "call_a"], [1, "call_b"]]);
    expect(inputOf(events, 0)).toBe("{}");
    expect(inputOf(events, 1)).toBe('{"city":"Oslo"}');
    const [stored] = await replies(api, token, conv);
    expect(stored.content).toBe("");
    expect(stored.tool_use.map((t: any) => t.input)).toEqual([{}, { city: "Oslo" }]);
  });

  it("is read by the Anthropic SDK's MessageStream, which accumulates each input_json_delta into the parsed input", async () => {
    const conv = await newConversation(api, token);
    h.groq.enqueue(calling([weather, time], usage, ["Checking."]));
    const sdk = new Anthropic({
      apiKey: "unused",
      baseURL: "http://sdk.invalid",
      maxRetries: 0,
      fetch: () => stream(api, conv, token, { content: "Weather?", tools }),
    });
    const json: string[] = [];
    const final = await sdk.messages
      .stream({ model: "openai/gpt-oss-20b", max_tokens: 1024, messages: [{ role: "user", content: "Weather?" }] })
      .on("inputJson", (piece) => void json.push(piece))
      .finalMessage();
    expect(final.stop_reason).toBe("tool_use");
    expect(final.content).toEqual([
      expect.objectContaining({ type: "text", text: "Checking." }),
      { type: "tool_use", id: "call_w1", name: "get_weather", input: { city: "Paris" } },
      { type: "tool_use", id: "call_t2", name: "get_time", input: { zone: "Europe/Paris" } },
    ]);
    expect(json.join("")).toBe('{"city": "Paris"}{"zone": "Europe/Paris"}');
  });

  it("resumes after any event, mid tool_use included, with exactly what followed it", async () => {
    const conv = await newConversation(api, token);
    const live = (await send(conv, calling([weather, time], usage, ["Let me ", "check."]))).filter((e) => e.event !== "ping");
    const [stored] = await replies(api, token, conv);
    for (let i = 0; i < live.length - 1; i++) {
      const res = await fetch(`${api}/conversations/${conv}/messages/${stored.id}/stream`, {
        headers: { authorization: `Bearer ${token}`, "last-event-id": live[i]!.id! },
      });
      expect(res.status).toBe(200);
      const rest = (await readSse(res)).filter((e) => e.event !== "ping");
      expect(mergedDeltas(rest), `after event ${i} (${live[i]!.event})`).toEqual(mergedDeltas(live.slice(i + 1)));
    }
  });

  it("Groq's 400 tool_use_failed is an api_error on the stream, stored as an error with the model's failed generation", async () => {
    const conv = await newConversation(api, token);
    const logged = captureConsoleErrors();
    const generation = '<function=get_weather>{"town": 1}</function>';
    const events = await send(conv, {
      status: 400,
      error: {
        message: "Failed to call a function. Please adjust your prompt. See 'failed_generation' for more details.",
        type: "invalid_request_error",
        code: "tool_use_failed",
        failed_generation: generation,
      },
    });
    expect(names(events)).toEqual(["message_start", "error"]);
    expect(errorOf(events)).toEqual({ type: "api_error", message: "The model wrote a tool call that does not fit the tools offered" });
    const [stored] = await replies(api, token, conv);
    logged.restore();
    expect(stored.finish_reason).toBe("error");
    expect(stored.metadata.failed_generation).toBe(generation);
    expect(stored.metadata.error).toEqual({ type: "api_error", message: "The model wrote a tool call that does not fit the tools offered" });
    expect(JSON.stringify(events)).not.toContain("town");
  });

  it("a stream that interleaves its calls' pieces is an api_error, stored as an error", async () => {
    const conv = await newConversation(api, token);
    const logged = captureConsoleErrors();
    const events = await send(conv, {
      steps: [
        { toolCalls: [{ index: 0, id: "call_a", name: "get_time", arguments: "{" }] },
        { toolCalls: [{ index: 1, id: "call_b", name: "get_weather", arguments: "{" }] },
        { toolCalls: [{ index: 0, arguments: "}" }] },
        { finish: "tool_calls", usage },
        { done: true },
      ],
    });
    expect(errorOf(events)).toMatchObject({ type: "api_error", message: "The model interleaved its tool calls" });
    const [stored] = await replies(api, token, conv);
    logged.restore();
    expect(stored.finish_reason).toBe("error");
    expect(logged.text()).toContain("reply_failed");
  });
});
