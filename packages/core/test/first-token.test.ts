// The first token: a kept history lets a send call the model while begin_reply decides; a
// conversation that moved on, a refusal, or a budget this instance knows nothing about keeps the model
// from being called early or stops the call; the stream ends before the reply's final write lands, and
// the next send of the conversation in this process waits for that write.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../src/config";
import { FinishingReplies } from "../src/chat/finishing";
import { cancelReply, startReply } from "../src/chat/stream-reply";
import type { ReplyDeps } from "../src/chat/types";
import type { StreamRequest } from "../src/schemas";
import { TurnCache } from "../src/chat/turn-cache";
import { MemoryStore, ScriptedProvider, deltaText, recorder, type Step } from "./fakes";

const settings = parseConfig({
  FLUSH_INTERVAL_MS: "250",
  REPLY_STALE_MS: "1000",
  ALLOWED_MODELS: "m",
  DEFAULT_MODEL: "m",
  DAILY_TOKEN_BUDGET: "0",
});

let store: MemoryStore;
let cache: TurnCache;
let finishing: FinishingReplies;
beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
  cache = new TurnCache();
  finishing = new FinishingReplies();
});
afterEach(() => vi.useRealTimers());

const USER = "user-1";
const deps = (provider: ScriptedProvider, extra: Partial<ReplyDeps["settings"]> = {}): ReplyDeps => ({
  store,
  provider,
  settings: { ...settings, ...extra },
  turns: cache.forUser(USER),
  finishing,
});
type Content = StreamRequest["content"];
const request = (content: Content = "hi") => ({ kind: "send" as const, conversationId: store.conversation.id, body: { content }, idempotencyKey: null, receivedAt: performance.now() });
const answer = (text: string): Step[] => [{ wait: 10 }, { text }, { finish: "end_turn" }];
const keepEmpty = () => cache.forUser(USER).keep({ conversation: { ...store.conversation }, history: [] }, settings.HISTORY_LIMIT);

/** Starts a send (timers advance meanwhile, as they would) and runs its stream to the end. */
async function send(d: ReplyDeps, content: Content = "hi") {
  let settled = false;
  const started = startReply(d, request(content)).finally(() => (settled = true));
  started.catch(() => {});
  while (!settled) await vi.advanceTimersByTimeAsync(1);
  const reply = await started;
  const seen = recorder();
  let endedAt: number | null = null;
  const done = reply.run(seen.emit, new AbortController().signal, () => void (endedAt ??= seen.events.length));
  return { done, ended: () => endedAt !== null, events: () => seen.events };
}

describe("kept history", () => {
  it("calls the model before begin_reply answers, without reading the conversation", async () => {
    keepEmpty();
    const provider = new ScriptedProvider([answer("Hello.")]);
    let release!: () => void;
    store.beginGate = new Promise((r) => (release = r));
    const started = startReply(deps(provider), request("first"));
    await vi.advanceTimersByTimeAsync(0);
    // The request is out while the database still decides; nothing was read first.
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]!.messages.at(-1)).toEqual({ role: "user", content: "first" });
    expect(store.prepareCalls).toBe(0);
    release();
    store.beginGate = null;
    const reply = await started;
    const seen = recorder();
    const done = reply.run(seen.emit, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(deltaText(seen.events)).toBe("Hello.");
  });

  it("keeps the new branch after a reply, so the next send's prompt holds it without a read", async () => {
    keepEmpty();
    const provider = new ScriptedProvider([answer("One."), answer("Two.")]);
    const a = await send(deps(provider), "first");
    await vi.advanceTimersByTimeAsync(100);
    await a.done;
    const b = await send(deps(provider), "second");
    await vi.advanceTimersByTimeAsync(100);
    await b.done;
    expect(store.prepareCalls).toBe(0);
    expect(provider.requests[1]!.messages).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "One." },
      { role: "user", content: "second" },
    ]);
    expect(store.rows.map((r) => r.content)).toEqual(["first", "One.", "second", "Two."]);
  });

  it("keeps the branch after a reply that called tools, so the results' send holds the calls without a read", async () => {
    keepEmpty();
    const called: Step[] = [{ wait: 10 }, { text: "Checking." }, { tool: { id: "c1", name: "get_weather", input: '{"city": "Paris"}' } }, { finish: "tool_use" }];
    const provider = new ScriptedProvider([called, answer("Sunny.")]);
    const a = await send(deps(provider), "weather?");
    await vi.advanceTimersByTimeAsync(100);
    await a.done;
    const b = await send(deps(provider), [{ type: "tool_result", tool_use_id: "c1", content: "sunny" }]);
    await vi.advanceTimersByTimeAsync(100);
    await b.done;
    expect(store.prepareCalls).toBe(0);
    expect(provider.requests[1]!.messages).toEqual([
      { role: "user", content: "weather?" },
      { role: "assistant", content: "Checking.", tool_calls: [{ id: "c1", name: "get_weather", input: '{"city":"Paris"}' }] },
      { role: "tool", tool_use_id: "c1", content: "sunny" },
    ]);
    expect(store.rows.map((r) => [r.role, r.content, r.tool_result ?? null])).toEqual([
      ["user", "weather?", null],
      ["assistant", "Checking.", null],
      ["user", "", [{ type: "tool_result", tool_use_id: "c1", content: "sunny", is_error: false }]],
      ["assistant", "Sunny.", null],
    ]);
  });

  it("calls no model before begin_reply for a send that leaves the kept reply's calls unanswered, which is refused", async () => {
    keepEmpty();
    const called: Step[] = [{ wait: 10 }, { tool: { id: "c1", name: "get_weather", input: "{}" } }, { finish: "tool_use" }];
    const provider = new ScriptedProvider([called]);
    const a = await send(deps(provider), "weather?");
    await vi.advanceTimersByTimeAsync(100);
    await a.done;
    let release!: () => void;
    store.beginGate = new Promise((r) => (release = r));
    const started = startReply(deps(provider), request("never mind"));
    started.catch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    expect(provider.requests).toHaveLength(1);
    release();
    await expect(started).rejects.toMatchObject({ type: "validation_error", message: expect.stringMatching(/missing: c1/) });
    expect(provider.requests).toHaveLength(1);
    expect(store.rows).toHaveLength(2);
  });

  it("stops the early call and reads when the conversation moved on (another instance answered)", async () => {
    keepEmpty();
    // Elsewhere: an exchange this instance never saw, and a new system prompt.
    store.rows.push(store.row({ id: crypto.randomUUID(), role: "user", content: "elsewhere" }));
    store.rows.push(store.row({ id: crypto.randomUUID(), role: "assistant", content: "Answered elsewhere.", model: "m", finish_reason: "end_turn" }));
    store.conversation.system_prompt = "Be brief.";
    const provider = new ScriptedProvider([[{ wait: 1000 }, { text: "stale" }, { finish: "end_turn" }], answer("Fresh.")]);
    const s = await send(deps(provider), "next");
    await vi.advanceTimersByTimeAsync(100);
    await s.done;
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[0]!.signal.aborted).toBe(true);
    expect(provider.requests[1]!.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "elsewhere" },
      { role: "assistant", content: "Answered elsewhere." },
      { role: "user", content: "next" },
    ]);
    expect(deltaText(s.events())).toBe("Fresh.");
    expect(store.prepareCalls).toBe(1);
  });

  it("stops the early call when a reply is streaming (moved, then a read and a 409 without a second call)", async () => {
    keepEmpty();
    store.rows.push(store.row({ id: crypto.randomUUID(), role: "assistant", content: "", model: "m" }));
    cache.forUser(USER).keep({ conversation: { ...store.conversation }, history: [] }, settings.HISTORY_LIMIT);
    // The kept history says "empty", so the send moves on to a read, which shows the streaming reply:
    // no model call at all the second time, and a 409.
    const provider = new ScriptedProvider([[{ wait: 1000 }, { finish: "end_turn" }]]);
    const started = startReply(deps(provider), request("again"));
    started.catch(() => {});
    await vi.advanceTimersByTimeAsync(0);
    await expect(started).rejects.toMatchObject({ type: "conflict_error" });
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]!.signal.aborted).toBe(true);
  });

  it("with a budget, calls the model early only once this instance saw room for the send", async () => {
    keepEmpty();
    const provider = new ScriptedProvider([answer("One."), answer("Two.")]);
    const d = deps(provider, { DAILY_TOKEN_BUDGET: 100_000, RESERVE_OUTPUT_TOKENS: 1000 });
    let release!: () => void;
    store.beginGate = new Promise((r) => (release = r));
    const first = startReply(d, request("first"));
    await vi.advanceTimersByTimeAsync(0);
    // Nothing known about this user's budget yet: begin_reply first.
    expect(provider.requests).toHaveLength(0);
    release();
    store.beginGate = null;
    const a = await first;
    const done = a.run(() => {}, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(100);
    await done;

    store.beginGate = new Promise((r) => (release = r));
    const second = startReply(d, request("second"));
    await vi.advanceTimersByTimeAsync(0);
    // begin_reply reported ~99,000 tokens left: room for this send, so the call went out at once.
    expect(provider.requests).toHaveLength(2);
    release();
    store.beginGate = null;
    await second;
  });
});

describe("a history too long to fit by its byte count", () => {
  it("has its new messages counted after the reply, so the next send counts only its own message before calling the model", async () => {
    keepEmpty();
    const counted: string[] = [];
    const count = (text: string) => (counted.push(text), Math.ceil(text.length / 4));
    const long = "word ".repeat(300);
    const provider = new ScriptedProvider([answer(long), answer("Two.")]);
    const d: ReplyDeps = { ...deps(provider, { CONTEXT_TOKEN_BUDGET: 1000 }), tokenizer: async () => count };
    const a = await send(d, "first");
    await vi.advanceTimersByTimeAsync(100);
    await a.done;
    // "first" fitted by bytes alone; the history it leaves (1,500 bytes of reply) no longer does.
    expect(counted.sort()).toEqual(["first", long].sort());
    counted.length = 0;
    const b = await send(d, "second");
    expect(provider.requests).toHaveLength(2);
    expect(counted).toEqual(["second"]);
    await vi.advanceTimersByTimeAsync(100);
    await b.done;
    expect(provider.requests[1]!.messages.map((m) => m.content)).toEqual(["first", long, "second"]);
  });

  it("loads no tokenizer after a reply whose history still fits by its bytes", async () => {
    keepEmpty();
    let loads = 0;
    const provider = new ScriptedProvider([answer("One.")]);
    const d: ReplyDeps = { ...deps(provider), tokenizer: async () => (loads++, (t: string) => t.length) };
    const a = await send(d, "first");
    await vi.advanceTimersByTimeAsync(100);
    await a.done;
    expect(loads).toBe(0);
  });
});

describe("refusals", () => {
  it("after a 429 this instance stops calling the model early for that user", async () => {
    keepEmpty();
    const provider = new ScriptedProvider([answer("One."), [{ wait: 1000 }, { finish: "end_turn" }]]);
    const d = deps(provider, { DAILY_TOKEN_BUDGET: 100_000, RESERVE_OUTPUT_TOKENS: 1000 });
    const a = await send(d, "first");
    await vi.advanceTimersByTimeAsync(100);
    await a.done;
    // The budget is used up elsewhere (another instance, another conversation).
    store.ledger.set("elsewhere", { tokens: 200_000, secret_hash: "x", settled: null });
    const refused = async (content: string) => {
      let settled = false;
      const p = startReply(d, request(content)).finally(() => (settled = true));
      p.catch(() => {});
      while (!settled) await vi.advanceTimersByTimeAsync(1);
      await expect(p).rejects.toMatchObject({ type: "rate_limit_error" });
    };
    // This instance still saw room: the model was called early, then stopped.
    await refused("second");
    expect(provider.requests).toHaveLength(2);
    expect(provider.requests[1]!.signal.aborted).toBe(true);
    // Now it knows: no more model calls for a send that will be refused.
    await refused("third");
    await refused("fourth");
    expect(provider.requests).toHaveLength(2);
  });

  it("a failing begin_reply releases the conversation: the next send goes ahead", async () => {
    keepEmpty();
    const provider = new ScriptedProvider([[{ wait: 1000 }, { finish: "end_turn" }], answer("Fine.")]);
    const begin = store.beginReply.bind(store);
    store.beginReply = async () => {
      store.beginReply = begin;
      throw new Error("database down");
    };
    const failed = startReply(deps(provider), request("first"));
    failed.catch(() => {});
    await vi.advanceTimersByTimeAsync(1);
    await expect(failed).rejects.toThrow("database down");
    expect(provider.requests[0]!.signal.aborted).toBe(true);
    const ok = await send(deps(provider), "again");
    await vi.advanceTimersByTimeAsync(100);
    await ok.done;
    expect(deltaText(ok.events())).toBe("Fine.");
  });
});

describe("the end of a reply", () => {
  it("ends the stream before the final write lands; the next send here waits for that write", async () => {
    // A titled conversation: the first reply of an untitled one keeps its stream for the title.
    store.conversation.title = "Titled";
    keepEmpty();
    const provider = new ScriptedProvider([answer("One."), answer("Two.")]);
    let release!: () => void;
    store.finishGate = new Promise((r) => (release = r));
    const a = await send(deps(provider), "first");
    await vi.advanceTimersByTimeAsync(100);
    // The client has message_stop and the response ended; the row is still streaming.
    expect(a.events().at(-1)!.event).toBe("message_stop");
    expect(a.ended()).toBe(true);
    expect(store.rows.find((r) => r.role === "assistant")!.finish_reason).toBeNull();

    // The next send does not find the reply streaming (no 409): it waits for the write.
    const next = startReply(deps(provider), request("second"));
    let decided = false;
    void next.then(() => (decided = true), () => (decided = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(decided).toBe(false);
    expect(store.beginCalls).toBe(1);
    release();
    store.finishGate = null;
    await a.done;
    await vi.advanceTimersByTimeAsync(0);
    const b = await next;
    const done = b.run(() => {}, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(store.rows.map((r) => [r.content, r.finish_reason])).toEqual([
      ["first", null],
      ["One.", "end_turn"],
      ["second", null],
      ["Two.", "end_turn"],
    ]);
  });
  it("answers a cancel that arrives while the final write is in flight with 409: the reply had finished", async () => {
    store.conversation.title = "Titled";
    const provider = new ScriptedProvider([answer("Done.")]);
    let release!: () => void;
    store.finishGate = new Promise((r) => (release = r));
    const a = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(100);
    expect(a.ended()).toBe(true);
    const reply = store.rows.find((r) => r.role === "assistant")!;
    expect(reply.finish_reason).toBeNull();
    const cancel = cancelReply(deps(provider), { conversationId: store.conversation.id, messageId: reply.id });
    cancel.catch(() => {});
    await vi.advanceTimersByTimeAsync(50);
    release();
    store.finishGate = null;
    await a.done;
    await expect(cancel).rejects.toMatchObject({ status: 409, message: expect.stringContaining("end_turn") });
    expect(reply.finish_reason).toBe("end_turn");
  });
});
