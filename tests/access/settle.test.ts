// A send's reservation settles to the real usage however the reply ends: an upstream error, a cancel
// mid-stream, a normal end. The budget holds one reservation (prompt + RESERVE_OUTPUT_TOKENS) but not
// two, so a reservation left unsettled would refuse every later send.
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { reply } from "../fixtures/groq-server";
import { call, readSse, registerUser, sseEvents, stream } from "../support/http";
import { newConversation, replies, startGroqApp, type GroqApp } from "../groq/harness";

let h: GroqApp;
let api: string;
beforeAll(async () => {
  h = await startGroqApp({ DAILY_TOKEN_BUDGET: "500", RESERVE_OUTPUT_TOKENS: "300" });
  api = h.app.api;
}, 60_000);
afterAll(() => h.close());

const totals = async (token: string) =>
  (await call(api, "GET", `/usage?from=${new Date(Date.now() - 3_600_000).toISOString()}`, { token })).body.totals;

it("settles a failed reply (nothing charged upstream) to nothing", async () => {
  const { token } = await registerUser(api);
  // Titled: no title call, whose tokens would be in the totals too.
  const conv = await newConversation(api, token, { title: "Settle" });
  h.groq.enqueue({ status: 400, error: { message: "bad request", type: "invalid_request_error" } });
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  const events = await readSse(await stream(api, conv, token, { content: "fail please" }));
  logged.mockRestore();
  expect(events.map((e) => e.event)).toContain("error");
  expect(await totals(token)).toMatchObject({ input_tokens: 0, output_tokens: 0, messages: 1 });

  h.groq.enqueue(reply(["Fine"], { prompt_tokens: 12, completion_tokens: 3 }));
  const next = await stream(api, conv, token, { content: "again" });
  expect(next.status).toBe(200);
  await readSse(next);
  // input_tokens is one figure: our count of the prompt as sent, as stored on the reply;
  // Groq's own prompt_tokens (12) stays in the reply's metadata.usage.
  const listed = (await call(api, "GET", `/conversations/${conv}/messages`, { token })).body.data as { role: string; input_tokens: number | null }[];
  const stored = listed.at(-1)!;
  expect(stored.role).toBe("assistant");
  expect(stored.input_tokens).toBeGreaterThan(0);
  expect(await totals(token)).toMatchObject({ input_tokens: stored.input_tokens, output_tokens: 3, messages: 2 });
});

it("settles a reply cancelled mid-stream to what it used", async () => {
  // With durable replies a client that leaves does not stop the reply (it runs on for a resume): the
  // way to stop one is the cancel route, from any connection. Its settle is the loop's last step too.
  const { token } = await registerUser(api);
  // Titled: no title call, whose tokens would be in the totals too.
  const conv = await newConversation(api, token, { title: "Settle" });
  h.groq.enqueue({ steps: [{ text: "Hello" }, { text: " there" }, { hang: true }] });
  const res = await stream(api, conv, token, { content: "talk" });
  let text = "";
  let replyId = "";
  let stop: string | null = null;
  let cancelSent = false;
  for await (const e of sseEvents(res)) {
    if (e.event === "message_start") replyId = e.data.message.id;
    if (e.event === "content_block_delta") text += e.data.delta.text;
    if (e.event === "message_delta") stop = e.data.delta.stop_reason;
    if (text === "Hello there" && stop === null && !cancelSent) {
      cancelSent = true;
      // The reply row is written while the first tokens stream: until it exists the cancel is a 404.
      let c = await call(api, "POST", `/conversations/${conv}/messages/${replyId}/cancel`, { token });
      for (let i = 0; i < 100 && c.status === 404; i++) {
        await new Promise((r) => setTimeout(r, 20));
        c = await call(api, "POST", `/conversations/${conv}/messages/${replyId}/cancel`, { token });
      }
      expect(c.status).toBe(202);
    }
  }
  expect(stop).toBe("cancelled");
  const [stored] = await replies(api, token, conv);
  expect(stored.finish_reason).toBe("cancelled");
  // Settled: the real (counted) figures, not the 300-token output reservation, and the next send passes.
  for (let i = 0; i < 200 && (await totals(token)).messages < 1; i++) await new Promise((r) => setTimeout(r, 25));
  const t = await totals(token);
  expect(t.messages).toBe(1);
  expect(t.input_tokens + t.output_tokens).toBe(stored.input_tokens + stored.token_count);
  h.groq.enqueue(reply(["Ok"], { prompt_tokens: 5, completion_tokens: 1 }));
  const next = await stream(api, conv, token, { content: "still there?" });
  expect(next.status).toBe(200);
  await readSse(next);
});
