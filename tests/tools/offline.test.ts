// The offline model (no GROQ_API_KEY) plays a tool call whenever tools are offered: the first tool (or
// the one tool_choice names) with arguments its schema's required fields accept, streamed and stored
// like a real model's call, so a client's tool loop can be tried without a key.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { routes } from "../../packages/functions/src/routes";
import { startApp, type TestApp } from "../support/app";
import { readSse, registerUser, stream, type SseEvent } from "../support/http";
import { newConversation, replies, textOf } from "../groq/harness";

let app: TestApp;
let token: string;
beforeAll(async () => {
  app = await startApp();
  ({ token } = await registerUser(app.api));
});
afterAll(() => app.close());

const weather = {
  name: "get_weather",
  description: "The forecast for a city",
  input_schema: {
    type: "object",
    properties: {
      city: { type: "string" },
      days: { type: "integer", minimum: 1 },
      units: { enum: ["celsius", "fahrenheit"] },
      detailed: { type: "boolean" },
      hours: { type: "array", items: { type: "integer" } },
      where: { type: "object", properties: { lat: { type: "number" }, lon: { type: "number" } }, required: ["lat"] },
      note: { type: "string" },
    },
    required: ["city", "days", "units", "detailed", "hours", "where"],
  },
};
const time = { name: "get_time", input_schema: { type: "object", properties: { zone: { type: "string", default: "UTC" } }, required: ["zone"] } };

const toolStarts = (events: SseEvent[]) => events.filter((e) => e.event === "content_block_start" && e.data.content_block.type === "tool_use");
const inputOf = (events: SseEvent[]) =>
  events.filter((e) => e.data?.delta?.type === "input_json_delta").map((e) => e.data.delta.partial_json).join("");
const stopReason = (events: SseEvent[]) => events.find((e) => e.event === "message_delta")!.data.delta.stop_reason;

async function send(body: Record<string, unknown>) {
  const conv = await newConversation(app.api, token);
  const res = await stream(app.api, conv, token, { content: "What is the weather?", reasoning_effort: "low", ...body });
  expect(res.status).toBe(200);
  return { conv, events: await readSse(res) };
}

describe("the offline model, offered tools", () => {
  it("calls the first tool with arguments for its schema's required fields, and stores the call", async () => {
    const { conv, events } = await send({ tools: [weather, time] });
    const [start] = toolStarts(events);
    expect(toolStarts(events)).toHaveLength(1);
    expect(start!.data.content_block).toMatchObject({ type: "tool_use", name: "get_weather", input: {} });
    expect(start!.data.content_block.id).toMatch(/^toolu_offline_[0-9a-f]{32}$/);
    const input = { city: "example", days: 1, units: "celsius", detailed: false, hours: [], where: { lat: 0 } };
    expect(JSON.parse(inputOf(events))).toEqual(input);
    // In pieces, as a model streams it.
    expect(events.filter((e) => e.data?.delta?.type === "input_json_delta").length).toBeGreaterThan(1);
    expect(stopReason(events)).toBe("tool_use");
    // The reasoning model thinks first, and writes no text around the call.
    expect(events.filter((e) => e.event === "content_block_start").map((e) => e.data.content_block.type)).toEqual(["thinking", "tool_use"]);

    const [stored] = await replies(app.api, token, conv);
    expect(stored).toMatchObject({ finish_reason: "tool_use", content: "", tool_use: [{ type: "tool_use", id: start!.data.content_block.id, name: "get_weather", input }] });
  });

  it("calls the tool tool_choice names, with its schema's default", async () => {
    const { events } = await send({ tools: [weather, time], tool_choice: { type: "tool", name: "get_time" } });
    expect(toolStarts(events).map((e) => e.data.content_block.name)).toEqual(["get_time"]);
    expect(JSON.parse(inputOf(events))).toEqual({ zone: "UTC" });
  });

  it('answers in text when tool_choice is "none", or no tools are offered', async () => {
    for (const body of [{ tools: [weather], tool_choice: "none" }, {}]) {
      const { events } = await send(body);
      expect(toolStarts(events)).toEqual([]);
      expect(textOf(events.filter((e) => e.data?.delta?.type === "text_delta"))).toContain("This is the offline model");
      expect(stopReason(events)).toBe("end_turn");
    }
  });
});

describe("the API document's examples of a send", () => {
  // Swagger UI's "Try it out" starts from these: they must work as a person would send them, in order.
  const doc = JSON.parse(readFileSync(new URL("../../openapi.json", import.meta.url), "utf8"));
  const examples = doc.paths[routes.find((r) => r.name === "messages-stream")!.path].post.requestBody.content["application/json"].examples;

  it("a tool send, then its result with the call's id, completes the loop", async () => {
    const id = await newConversation(app.api, token);
    const called = await readSse(await stream(app.api, id, token, examples.tool.value));
    expect(stopReason(called)).toBe("tool_use");
    const callId = toolStarts(called)[0]!.data.content_block.id;
    const result = structuredClone(examples.tool_result.value);
    result.content[0].tool_use_id = callId;
    const answered = await readSse(await stream(app.api, id, token, result));
    expect(stopReason(answered)).toBe("end_turn");
    expect(textOf(answered)).toContain(examples.tool_result.value.content[0].content);
    expect(textOf(await readSse(await stream(app.api, id, token, examples.text.value)))).toContain(examples.text.value.content);
  });
});
