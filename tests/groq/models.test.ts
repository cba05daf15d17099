// The model list comes from Groq: the real app and the real groq-sdk against a loopback Groq whose
// GET /openai/v1/models no longer lists the configured DEFAULT_MODEL. What /models reports, which model
// answers, the output cap checked before anything is stored, and an output limit on every upstream
// request (the loopback Groq charges UNLIMITED_COMPLETION_TOKENS for a request without one).
import Groq from "groq-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GROQ_MODELS, UNLIMITED_COMPLETION_TOKENS, reply } from "../fixtures/groq-server";
import { captureConsoleErrors } from "../support/console";
import { call, readSse, registerUser, stream } from "../support/http";
import { GROQ_KEY, messages, newConversation, replies, startGroqApp, textOf, type GroqApp } from "./harness";

const DEFAULT = "openai/gpt-oss-20b";
const FALLBACK = "openai/gpt-oss-120b";
const QWEN = "qwen/qwen3.6-27b";
const RESERVE = 20_000;

let h: GroqApp;
let api: string;
let logged: ReturnType<typeof captureConsoleErrors>;
beforeAll(async () => {
  // The warning is logged when the provider reads the list, on the app's first request.
  logged = captureConsoleErrors();
  h = await startGroqApp(
    { DEFAULT_MODEL: DEFAULT, ALLOWED_MODELS: `${DEFAULT},${FALLBACK},${QWEN}`, RESERVE_OUTPUT_TOKENS: String(RESERVE) },
    { models: GROQ_MODELS.filter((m) => m.id !== DEFAULT), chargeUnlimited: true },
  );
  api = h.app.api;
});
afterAll(async () => {
  await h.close();
  logged.restore();
});

/** /models once Groq's list is in (a loaded machine may answer a cold instance's first call from the configuration). */
async function modelsFromGroq() {
  for (let i = 0; i < 200; i++) {
    const r = await call(api, "GET", "/models");
    if (r.body?.source === "groq") return r;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("Groq's model list never arrived");
}

const warnings = () => logged.calls.map((args) => String(args[0])).filter((line) => line.includes('"models_not_served"'));

describe("a DEFAULT_MODEL Groq no longer lists", () => {
  it("/models lists only the allowed models Groq serves, with Groq's caps, and reports the default unavailable; the log says so once", async () => {
    const r = await modelsFromGroq();
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      source: "groq",
      fetched_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      data: [
        { id: FALLBACK, context_window: 131_072, max_output_tokens: 65_536, reasoning: true, reasoning_efforts: ["low", "medium", "high"], server_tools: [], default: true },
        { id: QWEN, context_window: 131_072, max_output_tokens: 16_384, reasoning: true, reasoning_efforts: ["none"], server_tools: [], default: false },
      ],
      unavailable: [{ id: DEFAULT, reason: "not served by Groq" }],
    });
    // Groq's other models (a guard model, speech, an inactive one) are not admitted by ALLOWED_MODELS.
    expect(JSON.stringify(r.body)).not.toMatch(/whisper|prompt-guard|llama-3\.1/);
    // Read once, off the request path; one warning for that read, naming the default and what answers.
    expect(h.groq.modelListRequests).toHaveLength(1);
    expect(warnings()).toHaveLength(1);
    expect(JSON.parse(warnings()[0]!)).toMatchObject({ level: "warn", default_model: DEFAULT, answering: FALLBACK, not_served: [DEFAULT] });
    expect(logged.text()).not.toContain(GROQ_KEY);
  });

  it("answers a send with the first allowed model Groq lists, and the stored reply names it", async () => {
    await modelsFromGroq();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    expect((await call(api, "GET", `/conversations/${conv}`, { token })).body.model).toBe(DEFAULT);
    h.groq.enqueue(reply(["Hello", " there"], { prompt_tokens: 12, completion_tokens: 2 }));
    const events = await readSse(await stream(api, conv, token, { content: "Hi" }));
    expect(textOf(events)).toBe("Hello there");
    expect(events[0]!.data.message.model).toBe(FALLBACK);
    expect(h.groq.requests.at(-1)!.body.model).toBe(FALLBACK);
    const [stored] = await replies(api, token, conv);
    expect(stored).toMatchObject({ model: FALLBACK, finish_reason: "end_turn" });
  });

  it("refuses a send naming the unlisted model with 422 naming body.model, before anything is stored or sent", async () => {
    await modelsFromGroq();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    const upstream = h.groq.chatRequests.length;
    const r = await stream(api, conv, token, { content: "Hi", model: DEFAULT });
    expect(r.status).toBe(422);
    const body = (await r.json()) as any;
    expect(body.error).toMatchObject({ type: "validation_error", fields: [{ path: "body.model", message: expect.stringContaining("not served by Groq") }] });
    expect(await messages(api, token, conv)).toEqual([]);
    expect(h.groq.chatRequests.length).toBe(upstream);
  });
});

describe("the output cap", () => {
  it("refuses max_tokens above the model's cap with 422 naming body.max_tokens and the cap, and stores nothing", async () => {
    await modelsFromGroq();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token, { model: QWEN });
    const upstream = h.groq.chatRequests.length;
    // 16,385 passes the request schema (at most 32,768) but not Groq's cap for qwen3.6.
    const r = await stream(api, conv, token, { content: "Write a lot", max_tokens: 16_385 });
    expect(r.status).toBe(422);
    const body = (await r.json()) as any;
    expect(body.error.type).toBe("validation_error");
    expect(body.error.fields).toEqual([{ path: "body.max_tokens", message: `must be at most 16384 for ${QWEN}` }]);
    expect(body.error.message).toContain("16384");
    expect(await messages(api, token, conv)).toEqual([]);
    expect(h.groq.chatRequests.length).toBe(upstream);

    // At the cap it goes, with that limit.
    h.groq.enqueue(reply(["ok"], { prompt_tokens: 5, completion_tokens: 1 }));
    await readSse(await stream(api, conv, token, { content: "Write a lot", max_tokens: 16_384 }));
    expect(h.groq.requests.at(-1)!.body).toMatchObject({ model: QWEN, max_completion_tokens: 16_384 });
  });

  it("sends without max_tokens carry the model's cap within RESERVE_OUTPUT_TOKENS", async () => {
    await modelsFromGroq();
    const { token } = await registerUser(api);
    const qwen = await newConversation(api, token, { model: QWEN });
    const gpt = await newConversation(api, token, { model: FALLBACK });
    h.groq.enqueue(reply(["a"], { prompt_tokens: 5, completion_tokens: 1 }), reply(["b"], { prompt_tokens: 5, completion_tokens: 1 }));
    await readSse(await stream(api, qwen, token, { content: "x" }));
    expect(h.groq.requests.at(-1)!.body.max_completion_tokens).toBe(16_384); // the cap, below RESERVE_OUTPUT_TOKENS
    await readSse(await stream(api, gpt, token, { content: "x" }));
    expect(h.groq.requests.at(-1)!.body.max_completion_tokens).toBe(RESERVE); // RESERVE_OUTPUT_TOKENS, below the cap
  });
});

describe("every upstream request", () => {
  it("carried max_completion_tokens, never the deprecated max_tokens: sends and titles alike", async () => {
    await modelsFromGroq();
    const { token } = await registerUser(api);
    const conv = await newConversation(api, token);
    h.groq.enqueue(reply(["titled"])); // no usage: the count is ours, so a charge of 30,000 would show
    await readSse(await stream(api, conv, token, { content: "Give this a title" }));
    const [stored] = await replies(api, token, conv);

    const sends = h.groq.chatRequests.filter((r) => r.body.stream === true);
    const titles = h.groq.chatRequests.filter((r) => r.body.stream !== true);
    expect(sends.length).toBeGreaterThan(0);
    expect(titles.length).toBeGreaterThan(0);
    for (const r of h.groq.chatRequests) {
      expect(r.body.max_completion_tokens).toEqual(expect.any(Number));
      expect(r.body).not.toHaveProperty("max_tokens");
    }
    // Nothing was charged as a request without a limit: no stored reply carries the loopback's figure.
    expect(stored.token_count).not.toBe(UNLIMITED_COMPLETION_TOKENS);
    const usage = await call(api, "GET", "/usage?group_by=model", { token });
    expect(JSON.stringify(usage.body)).not.toContain(String(UNLIMITED_COMPLETION_TOKENS));

    // The check can fail: a request without a limit is charged 30,000 completion tokens.
    const client = new Groq({ apiKey: GROQ_KEY, baseURL: h.groq.url, maxRetries: 0 });
    const unlimited = await client.chat.completions.create({ model: FALLBACK, messages: [{ role: "user", content: "no limit" }], stream: false });
    expect(unlimited.usage?.completion_tokens).toBe(UNLIMITED_COMPLETION_TOKENS);
  });
});
