// Titles written by the model: the real app, the real groq-sdk and the loopback Groq server, which
// answers non-streaming requests (the title) apart from the streamed replies.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reply } from "../fixtures/groq-server";
import { call, readSse, registerUser, stream } from "../support/http";
import { GROQ_KEY, newConversation, startGroqApp, textOf, type GroqApp } from "../groq/harness";

let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp();
  api = h.app.api;
});
afterAll(() => h.close());

const titleOf = async (token: string, id: string) => (await call(api, "GET", `/conversations/${id}`, { token })).body.title;

describe("titles from the model", () => {
  it("asks DEFAULT_MODEL once, without streaming, after message_stop, and stores its cleaned answer", async () => {
    const { token } = await registerUser(api, "groq-title");
    const id = await newConversation(api, token);
    h.groq.enqueue(reply(["Sure", ", here"]));
    h.groq.enqueueOneShot({ content: '"Planning A Lisbon Weekend."\n' });
    const before = h.groq.oneShots.length;
    const res = await stream(api, id, token, { content: "Help me plan a weekend in Lisbon" });
    const events = await readSse(res);
    expect(textOf(events)).toBe("Sure, here");
    expect(events.at(-1)!.event).toBe("message_stop");
    // The stream ends only once the title is stored (the invocation must not freeze with it in flight).
    expect(await titleOf(token, id)).toBe("Planning A Lisbon Weekend");
    const asked = h.groq.oneShots.slice(before);
    expect(asked).toHaveLength(1);
    expect(asked[0]!.headers.authorization).toBe(`Bearer ${GROQ_KEY}`);
    expect(asked[0]!.body).toMatchObject({ model: "openai/gpt-oss-20b", reasoning_effort: "low", include_reasoning: false });
    expect(asked[0]!.body.stream).not.toBe(true);
    expect(asked[0]!.body.max_completion_tokens).toBeLessThanOrEqual(500);
    expect(asked[0]!.body).not.toHaveProperty("max_tokens"); // deprecated in groq-sdk
    expect(asked[0]!.body.messages.at(-1)).toEqual({ role: "user", content: "Help me plan a weekend in Lisbon" });

    // The second reply does not ask again.
    h.groq.enqueue(reply(["More"]));
    await readSse(await stream(api, id, token, { content: "And the food?" }));
    expect(h.groq.oneShots.length).toBe(before + 1);
  });

  it("falls back to the first words when Groq refuses the title request, and logs it without failing the reply", async () => {
    const { token } = await registerUser(api, "groq-title-fail");
    const id = await newConversation(api, token);
    h.groq.enqueue(reply(["Fine"]));
    h.groq.enqueueOneShot({ status: 503, error: { message: "over capacity", type: "internal_server_error" } });
    const warn = console.warn;
    const warned: string[] = [];
    console.warn = (m: unknown) => void warned.push(String(m));
    try {
      const events = await readSse(await stream(api, id, token, { content: "What is the capital of Portugal?" }));
      expect(events.at(-1)!.event).toBe("message_stop");
    } finally {
      console.warn = warn;
    }
    expect(await titleOf(token, id)).toBe("What is the capital of Portugal?");
    expect(warned).toHaveLength(1);
    expect(JSON.parse(warned[0]!)).toMatchObject({ level: "warn", event: "title_failed", conversation_id: id });
    expect(warned[0]).not.toContain(GROQ_KEY);
  });

  it("never asks for a conversation created with a title", async () => {
    const { token } = await registerUser(api, "groq-titled");
    const id = await newConversation(api, token, { title: "My title" });
    const before = h.groq.oneShots.length;
    h.groq.enqueue(reply(["Ok"]));
    await readSse(await stream(api, id, token, { content: "Hi" }));
    expect(h.groq.oneShots.length).toBe(before);
    expect(await titleOf(token, id)).toBe("My title");
  });
});
