// The model list and the model choice in front of the reply loop, with a scripted provider (whose
// catalog is a fixed list) and an in-memory store behind our own ports.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config";
import { snapshotOf, type ModelCatalog, type ModelSnapshot, type ServedModel } from "../src/model-catalog";
import { listModels, modelInfo, modelTraits } from "../src/models";
import type { CompletionEvent, CompletionRequest, ModelProvider } from "../src/ports";
import { OFFLINE_CONTEXT_WINDOW, OFFLINE_MAX_OUTPUT_TOKENS, createOfflineProvider } from "../src/providers/offline";
import type { Conversation, Message } from "../src/schemas";
import { startReply } from "../src/chat/stream-reply";
import type { ReplySettings } from "../src/chat/types";
import { MemoryStore, recorder } from "./fakes";

const config = parseConfig({});
const settings: ReplySettings = { ...config, PING_INTERVAL_MS: 60_000 };

const conversation = (model: string): Conversation => ({
  id: "00000000-0000-4000-8000-000000000001",
  title: null,
  system_prompt: null,
  model,
  created_at: "2026-01-01T00:00:00.000Z",
  updated_at: "2026-01-01T00:00:00.000Z",
});

const earlier: Message = {
  id: "00000000-0000-4000-8000-000000000009",
  conversation_id: "00000000-0000-4000-8000-000000000001",
  parent_id: null,
  role: "assistant",
  content: "An earlier answer.",
  reasoning: "Secret chain of thought.",
  model: "llama-3.1-8b-instant",
  token_count: 3,
  input_tokens: 3,
  finish_reason: "end_turn",
  latency_ms: 1,
  ttft_ms: 1,
  metadata: {},
  created_at: "2026-01-01T00:00:00.000Z",
};

/** The reply loop's in-memory store (fakes.ts), holding this conversation and history. */
function memoryStore(conv: Conversation, history: Message[] = [], store = new MemoryStore()) {
  store.conversation = conv;
  for (const m of history) store.rows.push({ ...m, cancel_requested: false, idempotency_key: null, heartbeat: Date.now() });
  const saved = () => store.rows.filter((r) => r.role === "assistant" && !history.some((h) => h.id === r.id));
  // The ledger (access): every send reserves once before the model and settles once after.
  const settled = () => [...store.ledger.values()].flatMap((r) => (r.settled ? [{ ...r.settled }] : []));
  return { store, saved, settled };
}

/** What Groq lists in these tests: both gpt-oss models and qwen3.6 with its 16,384-token cap. */
const SERVED: ServedModel[] = [
  { id: "openai/gpt-oss-20b", context_window: 131_072, max_output_tokens: 65_536 },
  { id: "openai/gpt-oss-120b", context_window: 131_072, max_output_tokens: 65_536 },
  { id: "qwen/qwen3.6-27b", context_window: 131_072, max_output_tokens: 16_384 },
];
const listOf = (models: ServedModel[]): ModelSnapshot =>
  snapshotOf(models, { source: "groq", served_by: "Groq", fetched_at: "2026-12-01T00:00:00.000Z" });
const fixed = (snapshot: ModelSnapshot | null): ModelCatalog => ({ current: () => snapshot, ready: () => Promise.resolve() });

function scripted(events: CompletionEvent[], catalog: ModelCatalog | undefined = fixed(listOf(SERVED))) {
  const seen: CompletionRequest[] = [];
  const provider: ModelProvider = {
    name: "scripted",
    ...(catalog ? { catalog } : {}),
    modelLabel: (m) => m,
    async *complete(req) {
      seen.push(req);
      req.onAccepted?.();
      yield* events;
    },
  };
  return { provider, seen };
}

const finish: CompletionEvent = { type: "finish", finish_reason: "end_turn", usage: null, metadata: {} };

async function send(
  conv: Conversation,
  body: Record<string, unknown>,
  events: CompletionEvent[] = [{ type: "text", text: "ok" }, finish],
  history: Message[] = [],
  opts: { catalog?: ModelCatalog | undefined; settings?: ReplySettings; store?: MemoryStore } = { catalog: fixed(listOf(SERVED)) },
) {
  const { store, saved, settled } = memoryStore(conv, history, opts.store);
  const { provider, seen } = scripted(events, opts.catalog);
  const reply = await startReply(
    { store, provider, settings: opts.settings ?? settings },
    { kind: "send", conversationId: conv.id, body: { content: "hi", ...body }, idempotencyKey: null, receivedAt: performance.now() },
  );
  const streamed = recorder();
  await reply.run(streamed.emit, new AbortController().signal);
  return { saved: saved(), seen, events: streamed.events, settled: settled() };
}

describe("model choice", () => {
  it("answers a conversation stored with a retired model with the default, and the reply says which model answered", async () => {
    const { saved, seen } = await send(conversation("llama-3.1-8b-instant"), {});
    expect(seen[0]!.model).toBe(config.DEFAULT_MODEL);
    expect(saved[0]!.model).toBe("openai/gpt-oss-20b");
  });

  it("refuses a request that names a model off the allow-list", async () => {
    await expect(send(conversation("openai/gpt-oss-20b"), { model: "llama-3.1-8b-instant" })).rejects.toMatchObject({
      status: 422,
      fields: [{ path: "body.model" }],
    });
  });

  it("refuses a reasoning_effort the model does not take", async () => {
    const allowQwen = { ...settings, ALLOWED_MODELS: [...settings.ALLOWED_MODELS, "qwen/qwen3.6-27b"] };
    await expect(send(conversation("qwen/qwen3.6-27b"), { reasoning_effort: "high" }, undefined, [], { catalog: fixed(listOf(SERVED)), settings: allowQwen })).rejects.toMatchObject({
      status: 422,
      fields: [{ path: "body.reasoning_effort", message: "must be one of: none" }],
    });
  });
});

describe("the provider's model list in the model choice", () => {
  const withoutDefault = fixed(listOf(SERVED.filter((m) => m.id !== config.DEFAULT_MODEL)));

  it("answers with the first allowed model the provider lists when it no longer lists DEFAULT_MODEL", async () => {
    const { saved, seen } = await send(conversation("openai/gpt-oss-20b"), {}, undefined, [], { catalog: withoutDefault });
    expect(seen[0]!.model).toBe("openai/gpt-oss-120b");
    expect(saved[0]!.model).toBe("openai/gpt-oss-120b");
  });

  it("refuses, before anything is stored, a send naming an allowed model the provider does not list", async () => {
    const store = new MemoryStore();
    await expect(send(conversation("openai/gpt-oss-120b"), { model: "openai/gpt-oss-20b" }, undefined, [], { catalog: withoutDefault, store })).rejects.toMatchObject({
      status: 422,
      fields: [{ path: "body.model", message: expect.stringContaining("not served by Groq") }],
    });
    expect(store.rows).toEqual([]);
  });

  it("refuses, before anything is stored, max_tokens above the model's output cap", async () => {
    const store = new MemoryStore();
    const allowQwen = { ...settings, ALLOWED_MODELS: [...settings.ALLOWED_MODELS, "qwen/qwen3.6-27b"] };
    await expect(
      send(conversation("qwen/qwen3.6-27b"), { max_tokens: 16_385 }, undefined, [], { catalog: fixed(listOf(SERVED)), settings: allowQwen, store }),
    ).rejects.toMatchObject({ status: 422, fields: [{ path: "body.max_tokens", message: "must be at most 16384 for qwen/qwen3.6-27b" }] });
    expect(store.rows).toEqual([]);
    // The cap itself is accepted, and goes upstream as the limit.
    const { seen } = await send(conversation("qwen/qwen3.6-27b"), { max_tokens: 16_384 }, undefined, [], { catalog: fixed(listOf(SERVED)), settings: allowQwen });
    expect(seen[0]!.max_tokens).toBe(16_384);
  });

  it("always gives the provider an output limit: the client's, else the cap within RESERVE_OUTPUT_TOKENS", async () => {
    const conv = conversation("openai/gpt-oss-20b");
    expect((await send(conv, { max_tokens: 7 })).seen[0]!.max_tokens).toBe(7);
    expect((await send(conv, {})).seen[0]!.max_tokens).toBe(settings.RESERVE_OUTPUT_TOKENS);
    const small = fixed(listOf([{ id: "openai/gpt-oss-20b", context_window: 8_192, max_output_tokens: 1_000 }]));
    expect((await send(conv, {}, undefined, [], { catalog: small })).seen[0]!.max_tokens).toBe(1_000);
    // No list at all (never read, or a provider without one): the configured models, caps unknown.
    for (const catalog of [fixed(null), undefined]) {
      const { seen, saved } = await send(conv, {}, undefined, [], { catalog });
      expect(seen[0]).toMatchObject({ model: "openai/gpt-oss-20b", max_tokens: settings.RESERVE_OUTPUT_TOKENS });
      expect(saved[0]!.model).toBe("openai/gpt-oss-20b");
    }
  });

  it("leaves the reply room for its output limit in the model's window", async () => {
    const tiny = fixed(listOf([{ id: "openai/gpt-oss-20b", context_window: 1_200, max_output_tokens: 1_000 }]));
    const long: Message[] = Array.from({ length: 6 }, (_, i) => ({ ...earlier, id: `00000000-0000-4000-8000-00000000010${i}`, content: "word ".repeat(200) }));
    const { seen } = await send(conversation("openai/gpt-oss-20b"), {}, undefined, long, { catalog: tiny });
    const promptChars = seen[0]!.messages.reduce((n, m) => n + m.content.length, 0);
    // 200 tokens of room: less than one of the 1,000-character earlier answers (about 334 tokens each).
    expect(promptChars).toBeLessThan(1_000);
  });
});

describe("reasoning in the reply loop", () => {
  it("streams thinking at index 0 and text at index 1, stores both, counts both, and never prompts with reasoning", async () => {
    const events: CompletionEvent[] = [{ type: "reasoning", text: "Thinking it over." }, { type: "text", text: "Done." }, finish];
    const { saved, seen, events: streamed, settled } = await send(conversation("openai/gpt-oss-20b"), {}, events, [earlier]);
    const data = streamed.map((e) => e.data);
    const blocks = data.filter((d) => d.type.startsWith("content_block")).map((d) => `${d.type}:${d.index}`);
    expect(blocks).toEqual(["content_block_start:0", "content_block_delta:0", "content_block_stop:0", "content_block_start:1", "content_block_delta:1", "content_block_stop:1"]);
    expect(data[1].content_block).toEqual({ type: "thinking", thinking: "" });
    expect(saved[0]).toMatchObject({ content: "Done.", reasoning: "Thinking it over." });
    // No upstream usage: both parts are estimated as output.
    expect(saved[0]!.token_count).toBe(Math.ceil(17 / 3) + Math.ceil(5 / 3));
    // Settled once, reasoning included in the output tokens.
    expect(settled).toEqual([expect.objectContaining({ output_tokens: saved[0]!.token_count, secret: expect.any(String) })]);
    expect(JSON.stringify(seen[0]!.messages)).not.toContain("Secret chain of thought");
    expect(seen[0]!.messages).toContainEqual({ role: "assistant", content: "An earlier answer." });
  });
});

describe("the model list", () => {
  it("lists the allowed models the provider serves with its window and cap, and the others apart with the reason", () => {
    const c = parseConfig({ ALLOWED_MODELS: "openai/gpt-oss-20b,openai/gpt-oss-120b,qwen/qwen3.6-27b" });
    const served = listOf(SERVED.filter((m) => m.id !== "openai/gpt-oss-20b"));
    expect(listModels(c, served)).toEqual({
      source: "groq",
      fetched_at: "2026-12-01T00:00:00.000Z",
      data: [
        { id: "openai/gpt-oss-120b", context_window: 131_072, max_output_tokens: 65_536, reasoning: true, reasoning_efforts: ["low", "medium", "high"], server_tools: [], default: true },
        { id: "qwen/qwen3.6-27b", context_window: 131_072, max_output_tokens: 16_384, reasoning: true, reasoning_efforts: ["none"], server_tools: [], default: false },
      ],
      unavailable: [{ id: "openai/gpt-oss-20b", reason: "not served by Groq" }],
    });
  });

  it("without a list, lists the configured models with unknown caps (MODEL_CONTEXT_WINDOWS stands in for a window)", () => {
    const c = parseConfig({ MODEL_CONTEXT_WINDOWS: "my/model=2000", ALLOWED_MODELS: "openai/gpt-oss-20b,my/model" });
    expect(listModels(c, null)).toEqual({
      source: "configuration",
      fetched_at: null,
      data: [
        { id: "openai/gpt-oss-20b", context_window: null, max_output_tokens: null, reasoning: true, reasoning_efforts: ["low", "medium", "high"], server_tools: [], default: true },
        { id: "my/model", context_window: 2000, max_output_tokens: null, reasoning: false, reasoning_efforts: [], server_tools: [], default: false },
      ],
      unavailable: [],
    });
    // The provider's window wins where it gives one.
    const served = listOf([{ id: "my/model", context_window: 4000, max_output_tokens: null }]);
    expect(modelInfo("my/model", served, c.MODEL_CONTEXT_WINDOWS).context_window).toBe(4000);
    expect(() => parseConfig({ MODEL_CONTEXT_WINDOWS: "nonsense" })).toThrow(/MODEL_CONTEXT_WINDOWS/);
  });

  it("lists, without a key, the offline model under each allowed name, with its window and cap", () => {
    const offline = createOfflineProvider({ tokenDelayMs: 0 }).catalog!.current();
    expect(listModels(config, offline)).toEqual({
      source: "offline",
      fetched_at: null,
      data: config.ALLOWED_MODELS.map((id) => ({
        id,
        context_window: OFFLINE_CONTEXT_WINDOW,
        max_output_tokens: OFFLINE_MAX_OUTPUT_TOKENS,
        reasoning: true,
        reasoning_efforts: ["low", "medium", "high"],
        server_tools: [],
        default: id === config.DEFAULT_MODEL,
      })),
      unavailable: [],
    });
  });

  it("knows each family's traits by its id, and nothing of unknown ones", () => {
    expect(modelTraits("openai/gpt-oss-safeguard-20b")).toEqual({ reasoning: true, reasoning_efforts: ["low", "medium", "high"], tokenizer: "o200k", server_tools: ["browser_search"] });
    expect(modelTraits("openai/gpt-oss-120b").server_tools).toEqual(["browser_search", "code_interpreter"]);
    expect(modelTraits("qwen/qwen3.6-27b")).toEqual({ reasoning: true, reasoning_efforts: ["none"], tokenizer: "estimate", server_tools: [] });
    expect(modelTraits("qwen/qwen3.8-27b").reasoning_efforts).toEqual(["none", "low", "medium", "high"]);
    expect(modelTraits("unknown/model")).toEqual({ reasoning: false, reasoning_efforts: [], tokenizer: "estimate", server_tools: [] });
  });

  it("lists only the server tools SERVER_TOOLS allows; an unknown one is a configuration error", () => {
    const c = parseConfig({ ALLOWED_MODELS: "openai/gpt-oss-20b,qwen/qwen3.6-27b", SERVER_TOOLS: " browser_search ," });
    expect(c.SERVER_TOOLS).toEqual(["browser_search"]);
    expect(listModels(c, null).data.map((m) => [m.id, m.server_tools])).toEqual([
      ["openai/gpt-oss-20b", ["browser_search"]],
      ["qwen/qwen3.6-27b", []],
    ]);
    expect(config.SERVER_TOOLS).toEqual([]);
    // The offline model runs no tools: it lists none, whatever SERVER_TOOLS says.
    const offline = createOfflineProvider({ tokenDelayMs: 0 }).catalog!.current();
    expect(listModels(c, offline).data.map((m) => m.server_tools)).toEqual([[], []]);
    expect(() => parseConfig({ SERVER_TOOLS: "browser_search,web_fetch" })).toThrow(/SERVER_TOOLS: unknown server tool web_fetch/);
  });

  it("leaves qwen/qwen3.6-27b out of the defaults: Groq may no longer serve it", () => {
    expect(config.ALLOWED_MODELS).not.toContain("qwen/qwen3.6-27b");
    expect(config.MODEL_LIST_TTL_S).toBe(600);
  });
});
