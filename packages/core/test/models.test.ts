// The model catalog and the model choice in front of the reply loop, with a scripted provider and an
// in-memory store behind our own ports.
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config";
import { listModels, modelInfo } from "../src/models";
import type { CompletionEvent, CompletionRequest, ModelProvider } from "../src/ports";
import type { Conversation, Message } from "../src/schemas";
import { startReply, type ReplySettings } from "../src/chat/stream-reply";
import { MemoryStore } from "./fakes";

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
function memoryStore(conv: Conversation, history: Message[] = []) {
  const store = new MemoryStore();
  store.conversation = conv;
  for (const m of history) store.rows.push({ ...m, cancel_requested: false, idempotency_key: null, heartbeat: Date.now() });
  const saved = () => store.rows.filter((r) => r.role === "assistant" && !history.some((h) => h.id === r.id));
  // The ledger (access): every send reserves once before the model and settles once after.
  const settled = () => [...store.ledger.values()].flatMap((r) => (r.settled ? [{ ...r.settled }] : []));
  return { store, saved, settled };
}

function scripted(events: CompletionEvent[]) {
  const seen: CompletionRequest[] = [];
  const provider: ModelProvider = {
    name: "scripted",
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

async function send(conv: Conversation, body: Record<string, unknown>, events: CompletionEvent[] = [{ type: "text", text: "ok" }, finish], history: Message[] = []) {
  const { store, saved, settled } = memoryStore(conv, history);
  const { provider, seen } = scripted(events);
  const reply = await startReply(
    { store, provider, settings },
    { conversationId: conv.id, body: { content: "hi", ...body }, idempotencyKey: null, receivedAt: performance.now() },
  );
  let sse = "";
  await reply.run((c) => void (sse += c), new AbortController().signal);
  return { saved: saved(), seen, sse, settled: settled() };
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
    await expect(send(conversation("qwen/qwen3.6-27b"), { reasoning_effort: "high" })).rejects.toMatchObject({
      status: 422,
      fields: [{ path: "body.reasoning_effort", message: "must be one of: none" }],
    });
  });
});

describe("reasoning in the reply loop", () => {
  it("streams thinking at index 0 and text at index 1, stores both, counts both, and never prompts with reasoning", async () => {
    const events: CompletionEvent[] = [{ type: "reasoning", text: "Thinking it over." }, { type: "text", text: "Done." }, finish];
    const { saved, seen, sse, settled } = await send(conversation("openai/gpt-oss-20b"), {}, events, [earlier]);
    const data = sse
      .split("\n")
      .filter((l) => l.startsWith("data: "))
      .map((l) => JSON.parse(l.slice(6)));
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

describe("catalog", () => {
  it("takes context windows from MODEL_CONTEXT_WINDOWS over the catalog, and knows nothing of unknown models", () => {
    const c = parseConfig({ MODEL_CONTEXT_WINDOWS: "openai/gpt-oss-20b=1000, my/model=2000", ALLOWED_MODELS: "openai/gpt-oss-20b,my/model" });
    expect(listModels(c).data).toEqual([
      { id: "openai/gpt-oss-20b", context_window: 1000, reasoning: true, reasoning_efforts: ["low", "medium", "high"], default: true },
      { id: "my/model", context_window: 2000, reasoning: false, reasoning_efforts: [], default: false },
    ]);
    expect(modelInfo("unknown/model")).toMatchObject({ context_window: null, reasoning: false, tokenizer: "estimate" });
    expect(() => parseConfig({ MODEL_CONTEXT_WINDOWS: "nonsense" })).toThrow(/MODEL_CONTEXT_WINDOWS/);
  });
});
