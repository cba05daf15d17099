// The tool loop on the native API (stored conversations), on PGlite: tools → tool_use → tool_result →
// the final text, with Groq's request checked (loop-scenario.ts), and again on a regenerate; each way a
// message's tool results can fail to answer the reply it follows is a 422 that stores nothing, and an
// Idempotency-Key names the results; and the offline model's loop without a key (it calls, then answers
// from the result).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { startApp, type TestApp } from "../support/app";
import { call, readSse, registerUser, stream } from "../support/http";
import { messages, newConversation, startGroqApp, textOf, type GroqApp } from "../groq/harness";
import { enqueueCalls, stopReason, toolLoop, tools } from "./loop-scenario";

let h: GroqApp;
let api: string;
let token: string;
beforeAll(async () => {
  h = await startGroqApp();
  api = h.app.api;
  ({ token } = await registerUser(api));
});
afterAll(() => h.close());

describe("the tool loop", () => {
  it("continues a reply that called tools from their results, Groq getting tool_calls and tool messages and no reasoning", async () => {
    await toolLoop(h.groq, api, api, token);
  });

  it("regenerates the answer to a message of results from the same calls and results", async () => {
    const conv = await newConversation(api, token);
    enqueueCalls(h.groq, "call_r1", "call_r2");
    await readSse(await stream(api, conv, token, { content: "Weather and time?", tools }));
    const content = [
      { type: "tool_result", tool_use_id: "call_r1", content: "fog" },
      { type: "tool_result", tool_use_id: "call_r2", content: "dawn", is_error: true },
    ];
    h.groq.enqueue(reply(["Foggy."], { prompt_tokens: 50, completion_tokens: 1 }));
    await readSse(await stream(api, conv, token, { content, tools }));
    const sent = h.groq.requests.at(-1)!.body.messages;
    const last = (await messages(api, token, conv)).at(-1);
    h.groq.enqueue(reply(["Still foggy."], { prompt_tokens: 50, completion_tokens: 2 }));
    const res = await fetch(`${api}/conversations/${conv}/messages/${last.id}/regenerate`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ tools }),
    });
    expect(res.status).toBe(200);
    expect(textOf(await readSse(res))).toBe("Still foggy.");
    const again = h.groq.requests.at(-1)!.body.messages;
    expect(again).toEqual(sent);
    expect(again.slice(-2)).toEqual([
      { role: "tool", tool_call_id: "call_r1", content: "fog" },
      { role: "tool", tool_call_id: "call_r2", content: "Error: dawn" },
    ]);
  });

  it("after a reply that called tools, refuses with a 422 and stores nothing: results it did not call, calls left unanswered, duplicates", async () => {
    const conv = await newConversation(api, token);
    enqueueCalls(h.groq, "call_a", "call_b");
    const first = await readSse(await stream(api, conv, token, { content: "Weather and time?", tools }));
    expect(stopReason(first)).toBe("tool_use");
    const before = await messages(api, token, conv);
    const result = (id: string) => ({ type: "tool_result", tool_use_id: id, content: "ok" });
    const refusals: [unknown, string, RegExp][] = [
      // Text alone leaves both calls unanswered.
      ["Never mind.", "body.content", /needs a tool_result for tool_use id "call_a"/],
      [[result("call_a")], "body.content", /needs a tool_result for tool_use id "call_b"/],
      [[result("call_a"), result("call_b"), result("call_x")], "body.content[2].tool_use_id", /"call_x" is not a tool_use id .*call_a, call_b/],
      [[result("call_a"), result("call_a"), result("call_b")], "body.content.1.tool_use_id", /answered twice/],
      [[{ type: "text", text: "" }], "body.content", /needs some text or a tool_result/],
    ];
    for (const [content, path, message] of refusals) {
      const r = await call(api, "POST", `/conversations/${conv}/messages/stream`, { token, body: { content, tools } });
      expect(r.status, JSON.stringify(content)).toBe(422);
      expect(r.body.error.type).toBe("validation_error");
      const fields = r.body.error.fields as { path: string; message: string }[];
      expect(fields.some((f) => f.path === path && message.test(f.message)), JSON.stringify(r.body.error)).toBe(true);
    }
    expect(await messages(api, token, conv)).toEqual(before);
  });

  it("an Idempotency-Key names the results too: the same results again are the stored send (409), other results a 422", async () => {
    const conv = await newConversation(api, token);
    enqueueCalls(h.groq, "call_k1", "call_k2");
    await readSse(await stream(api, conv, token, { content: "Weather and time?", tools }));
    const content = (weather: string) => [
      { type: "tool_result", tool_use_id: "call_k1", content: weather },
      { type: "tool_result", tool_use_id: "call_k2", content: "noon" },
    ];
    const headers = { "idempotency-key": `results-${conv}` };
    h.groq.enqueue(reply(["Done."], { prompt_tokens: 50, completion_tokens: 1 }));
    const first = await readSse(await stream(api, conv, token, { content: content("rain"), tools }, { headers }));
    expect(stopReason(first)).toBe("end_turn");
    const before = await messages(api, token, conv);
    const again = await call(api, "POST", `/conversations/${conv}/messages/stream`, { token, headers, body: { content: content("rain"), tools } });
    expect(again.status).toBe(409);
    expect(again.body.error.reply_id).toBe(before.at(-1).id);
    const other = await call(api, "POST", `/conversations/${conv}/messages/stream`, { token, headers, body: { content: content("snow"), tools } });
    expect(other.status).toBe(422);
    expect(other.body.error.fields).toEqual([{ path: "header.idempotency-key", message: expect.stringMatching(/other content/) }]);
    expect(await messages(api, token, conv)).toEqual(before);
  });

  it("refuses tool results on a message that follows a reply without calls, storing nothing", async () => {
    const conv = await newConversation(api, token);
    h.groq.enqueue(reply(["Hello."], { prompt_tokens: 5, completion_tokens: 1 }));
    await readSse(await stream(api, conv, token, { content: "Hi" }));
    const before = await messages(api, token, conv);
    const r = await call(api, "POST", `/conversations/${conv}/messages/stream`, {
      token,
      body: { content: [{ type: "tool_result", tool_use_id: "call_none", content: "42" }] },
    });
    expect(r.status).toBe(422);
    expect(r.body.error.message).toMatch(/did not call .*called no tools/);
    expect(r.body.error.fields).toEqual([{ path: "body.content[0].tool_use_id", message: expect.stringMatching(/"call_none" is not a tool_use id/) }]);
    expect(await messages(api, token, conv)).toEqual(before);
  });
});

describe("the offline model's tool loop, without a key", () => {
  let app: TestApp;
  let offlineToken: string;
  beforeAll(async () => {
    app = await startApp();
    ({ token: offlineToken } = await registerUser(app.api));
  });
  afterAll(() => app.close());

  it("calls the tool, then answers from its result", async () => {
    const conv = await newConversation(app.api, offlineToken);
    const first = await readSse(await stream(app.api, conv, offlineToken, { content: "Weather in Paris?", tools }));
    expect(stopReason(first)).toBe("tool_use");
    const id = first.find((e) => e.event === "content_block_start" && e.data.content_block.type === "tool_use")!.data.content_block.id as string;
    const content = [{ type: "tool_result", tool_use_id: id, content: "Sunny, 18 degrees" }];
    const second = await readSse(await stream(app.api, conv, offlineToken, { content, tools }));
    expect(stopReason(second)).toBe("end_turn");
    expect(textOf(second)).toContain('The tool returned: "Sunny, 18 degrees"');
    const listed = await messages(app.api, offlineToken, conv);
    expect(listed.map((m) => [m.role, m.finish_reason])).toEqual([
      ["user", null],
      ["assistant", "tool_use"],
      ["user", null],
      ["assistant", "end_turn"],
    ]);
    expect(listed[2]).toMatchObject({ content: "", tool_result: [{ type: "tool_result", tool_use_id: id, content: "Sunny, 18 degrees", is_error: false }] });
  });
});
