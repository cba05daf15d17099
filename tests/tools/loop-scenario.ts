// The whole client tool loop on the native API, over HTTP against the loopback Groq server: a send that
// offers tools gets a reply that calls two of them (reasoning first, then text, then the calls' inputs
// in fragments, the second call's first piece in the same chunk as the first call's last), the client
// answers both with tool_result blocks, and the reply continues from them. Shared by the PGlite and the
// PostgreSQL suites; `answer` is the runtime the second send goes to (the same one, from its kept
// history, or another one over the same database, from a fresh read).
import { estimateTokens } from "@conversation-api/core";
import { expect } from "vitest";
import type { GroqServer } from "../fixtures/groq-server";
import { call, readSse, stream, type SseEvent } from "../support/http";
import { messages, newConversation, textOf } from "../groq/harness";

export const tools = [
  { name: "get_weather", description: "The weather in a city", input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
  { name: "get_time", input_schema: { type: "object", properties: { zone: { type: "string" } } } },
];

export const stopReason = (events: SseEvent[]) => events.find((e) => e.event === "message_delta")?.data.delta.stop_reason;
export const inputTokens = (events: SseEvent[]) => events[0]!.data.message.usage.input_tokens as number;

/** Queues a reply that reasons, writes a line, then calls get_weather and get_time (ids w and t). */
export function enqueueCalls(groq: GroqServer, w: string, t: string): void {
  groq.enqueue({
    steps: [
      { reasoning: "The user wants weather and time; both tools answer that." },
      { text: "Let me check." },
      { toolCalls: [{ index: 0, id: w, name: "get_weather", arguments: "" }] },
      { toolCalls: [{ index: 0, arguments: '{"city": ' }] },
      { toolCalls: [{ index: 0, arguments: '"Paris"}' }, { index: 1, id: t, name: "get_time", arguments: '{"zone":' }] },
      { toolCalls: [{ index: 1, arguments: ' "CET"}' }] },
      { finish: "tool_calls", usage: { prompt_tokens: 60, completion_tokens: 20 } },
      { done: true },
    ],
  });
}

export async function toolLoop(groq: GroqServer, first: string, answer: string, token: string): Promise<void> {
  const conv = await newConversation(first, token);
  const w = `call_w_${conv.slice(0, 8)}`;
  const t = `call_t_${conv.slice(0, 8)}`;
  enqueueCalls(groq, w, t);
  const asked = await readSse(await stream(first, conv, token, { content: "Weather and time in Paris?", tools }));
  expect(stopReason(asked)).toBe("tool_use");
  const starts = asked.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block);
  expect(starts.map((b) => b.type)).toEqual(["thinking", "text", "tool_use", "tool_use"]);
  expect(starts.filter((b) => b.type === "tool_use").map((b) => b.id)).toEqual([w, t]);

  groq.enqueue({ steps: [{ text: "Sunny and 21°C in Paris; " }, { text: "it is noon there." }, { finish: "stop", usage: { prompt_tokens: 90, completion_tokens: 9 } }, { done: true }] });
  const results = [
    { type: "tool_result", tool_use_id: w, content: "sunny, 21°C" },
    { type: "tool_result", tool_use_id: t, content: [{ type: "text", text: "12:00" }, { type: "text", text: "CET" }], is_error: false },
    { type: "text", text: "Thanks, summarise." },
  ];
  const res = await stream(answer, conv, token, { content: results, tools });
  expect(res.status).toBe(200);
  const answered = await readSse(res);
  expect(stopReason(answered)).toBe("end_turn");
  expect(textOf(answered)).toBe("Sunny and 21°C in Paris; it is noon there.");

  // What Groq received: the calls as the assistant's tool_calls, one tool message per result, the text
  // after them, and none of the reasoning.
  const sent = groq.requests.at(-1)!.body;
  expect(sent.messages).toEqual([
    { role: "user", content: "Weather and time in Paris?" },
    {
      role: "assistant",
      content: "Let me check.",
      tool_calls: [
        { id: w, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
        { id: t, type: "function", function: { name: "get_time", arguments: '{"zone":"CET"}' } },
      ],
    },
    { role: "tool", tool_call_id: w, content: "sunny, 21°C" },
    { role: "tool", tool_call_id: t, content: "12:00\nCET" },
    { role: "user", content: "Thanks, summarise." },
  ]);
  expect(JSON.stringify(sent)).not.toContain("both tools answer that");
  expect(sent.tools.map((x: { function: { name: string } }) => x.function.name)).toEqual(["get_weather", "get_time"]);
  // The definitions, the calls and the results are all in the counted prompt.
  const parts = [JSON.stringify(tools), '{"city":"Paris"}', '{"zone":"CET"}', "sunny, 21°C", "12:00\nCET", "Thanks, summarise."];
  expect(inputTokens(answered)).toBeGreaterThan(parts.reduce((n, p) => n + estimateTokens(p), 0));

  // Listed: the results with the user message, in order; the calls with the reply.
  // The reply's final write trails the end of its stream by a database round trip (docs/architecture.md).
  await expect.poll(async () => (await messages(answer, token, conv))[3]?.finish_reason).toBe("end_turn");
  const listed = await messages(answer, token, conv);
  expect(listed.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
  expect(listed[0]).not.toHaveProperty("tool_result");
  expect(listed[1].tool_use).toEqual([
    { type: "tool_use", id: w, name: "get_weather", input: { city: "Paris" } },
    { type: "tool_use", id: t, name: "get_time", input: { zone: "CET" } },
  ]);
  expect(listed[2]).toMatchObject({
    content: "Thanks, summarise.",
    tool_result: [
      { type: "tool_result", tool_use_id: w, content: "sunny, 21°C", is_error: false },
      { type: "tool_result", tool_use_id: t, content: "12:00\nCET", is_error: false },
    ],
  });
  expect(listed[3]).toMatchObject({ content: "Sunny and 21°C in Paris; it is noon there.", finish_reason: "end_turn" });
  expect(listed[3]).not.toHaveProperty("tool_use");

  // Exported whole as JSON, readable as Markdown.
  const json = await call(answer, "GET", `/conversations/${conv}/export`, { token });
  expect(json.body.messages.map((m: { tool_result?: unknown; tool_use?: unknown }) => [!!m.tool_use, !!m.tool_result])).toEqual([
    [false, false],
    [true, false],
    [false, true],
    [false, false],
  ]);
  expect(json.body.messages[2].tool_result).toEqual(listed[2].tool_result);
  const md = await fetch(`${answer}/conversations/${conv}/export?format=markdown`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.text());
  expect(md).toContain(`**Tool call** \`get_weather\` (${w})`);
  expect(md).toContain('"city": "Paris"');
  expect(md).toContain(`**Tool result** \`get_weather\` (${w})`);
  expect(md).toContain("sunny, 21°C");
  expect(md).toContain(`**Tool result** \`get_time\` (${t})`);

  // Search finds the conversation by the name of a tool a reply called.
  const search = async (q: string) =>
    (await call(answer, "GET", `/conversations?q=${encodeURIComponent(q)}`, { token })).body.data.map((c: { id: string }) => c.id);
  expect(await search("get_time")).toContain(conv);
  expect(await search("get_date")).not.toContain(conv);
}
