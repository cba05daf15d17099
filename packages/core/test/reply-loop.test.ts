// The reply loop on its own: in-memory store, scripted provider, fake timers. Covers when it writes,
// how it stops (cancel, stale, timeouts, the duration cap) and what a second sender or a resume sees.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../src/config";
import { cancelReply, resumeReply, startReply } from "../src/chat/stream-reply";
import type { ReplyDeps, ReplyOutcome } from "../src/chat/types";
import { MemoryStore, ScriptedProvider, deltaText, recorder, type Step } from "./fakes";

const FLUSH = 250;
const settings = parseConfig({
  FLUSH_INTERVAL_MS: String(FLUSH),
  REPLY_STALE_MS: "1000",
  FIRST_TOKEN_TIMEOUT_MS: "5000",
  IDLE_TIMEOUT_MS: "5000",
  REPLY_MAX_DURATION_MS: "60000",
  ALLOWED_MODELS: "m,openai/gpt-oss-20b",
  DEFAULT_MODEL: "m",
});

let store: MemoryStore;
beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
});
afterEach(() => vi.useRealTimers());

const deps = (provider: ScriptedProvider, extra: Partial<ReplyDeps["settings"]> = {}): ReplyDeps => ({
  store,
  provider,
  settings: { ...settings, ...extra },
});
const request = (key: string | null = null, content = "hi") => ({
  kind: "send" as const,
  conversationId: store.conversation.id,
  body: { content },
  idempotencyKey: key,
  receivedAt: performance.now(),
});

/** Starts a send and collects what it streams; `done` settles when the stream is over. */
async function send(d: ReplyDeps, key: string | null = null, content = "hi") {
  const reply = await startReply(d, request(key, content));
  const seen = recorder();
  const done = reply.run(seen.emit, new AbortController().signal);
  return { done, events: () => seen.events };
}

const words = (n: number, ms: number): Step[] => Array.from({ length: n }, (_, i) => [{ wait: ms }, { text: `w${i} ` }]).flat();
const reply = () => store.rows.find((r) => r.role === "assistant")!;

describe("flushing", () => {
  it("batches tokens into one write per interval, off the token path, at most one in flight", async () => {
    const provider = new ScriptedProvider([[...words(20, 50), { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(FLUSH - 1);
    // Tokens went out, nothing was written besides the row itself.
    expect(deltaText(s.events())).toBe("w0 w1 w2 w3 ");
    expect(store.flushes).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.flushes).toEqual([{ text: "w0 w1 w2 w3 ", reasoning: "" }]);

    // A slow database: the writes wait, tokens do not, and no second write starts meanwhile.
    let release!: () => void;
    store.flushGate = new Promise((r) => (release = r));
    await vi.advanceTimersByTimeAsync(3 * FLUSH);
    expect(deltaText(s.events())).toContain("w18 ");
    const during = store.flushes.length;
    release();
    store.flushGate = null;
    await vi.advanceTimersByTimeAsync(0);
    expect(store.flushes.length).toBe(during + 1);

    const outcome = (await vi.advanceTimersByTimeAsync(2000), await s.done) as ReplyOutcome;
    expect(reply().content).toBe(deltaText(s.events()));
    expect(reply().finish_reason).toBe("end_turn");
    expect(outcome.writes).toBe(store.flushes.length + 2);
  });

  it("stores reasoning as it streams, as a thinking block at index 0 before the text at index 1", async () => {
    const provider = new ScriptedProvider([[{ reasoning: "Let me " }, { wait: 300 }, { reasoning: "think." }, { text: "Four." }, { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(260);
    expect(reply().reasoning).toBe("Let me ");
    await vi.advanceTimersByTimeAsync(500);
    await s.done;
    const ev = s.events();
    expect(ev.map((e) => [e.event, e.data.index])).toEqual([
      ["message_start", undefined],
      ["content_block_start", 0],
      ["content_block_delta", 0],
      ["content_block_delta", 0],
      ["content_block_stop", 0],
      ["content_block_start", 1],
      ["content_block_delta", 1],
      ["content_block_stop", 1],
      ["message_delta", undefined],
      ["message_stop", undefined],
    ]);
    expect(ev[1]!.data.content_block).toEqual({ type: "thinking", thinking: "" });
    expect(deltaText(ev, "thinking_delta")).toBe("Let me think.");
    expect(reply()).toMatchObject({ reasoning: "Let me think.", content: "Four." });
  });

  it("a failed write is carried by the next one, so the stored text has no gap", async () => {
    const provider = new ScriptedProvider([[...words(12, 50), { finish: "end_turn" }]]);
    const failures: unknown[] = [];
    const real = store.flushReply.bind(store);
    let fail = true;
    store.flushReply = async (...args) => {
      if (fail) {
        fail = false;
        throw new Error("connection reset");
      }
      return real(...args);
    };
    const d = { ...deps(provider), onFailure: (f: { error: unknown }) => void failures.push(f.error) };
    const s = await send(d);
    await vi.advanceTimersByTimeAsync(FLUSH);
    expect(reply().content).toBe("");
    await vi.advanceTimersByTimeAsync(FLUSH);
    expect(reply().content).toBe("w0 w1 w2 w3 w4 w5 w6 w7 w8 ");
    await vi.advanceTimersByTimeAsync(1000);
    await s.done;
    expect(reply().content).toBe(deltaText(s.events()));
    expect(failures).toHaveLength(1);
  });

  it("keeps the row alive while the upstream has not accepted the request yet", async () => {
    // An upstream may hold a request for longer than the stale window before it answers.
    const provider = new ScriptedProvider([[{ text: "late" }, { finish: "end_turn" }]]);
    const complete = provider.complete.bind(provider);
    provider.complete = async function* (req) {
      await new Promise((r) => setTimeout(r, 3 * settings.REPLY_STALE_MS));
      yield* complete(req);
    };
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(2 * settings.REPLY_STALE_MS);
    expect((await store.getReply(reply().id, settings.REPLY_STALE_MS))?.finish_reason).toBeNull();
    await vi.advanceTimersByTimeAsync(2 * settings.REPLY_STALE_MS);
    await s.done;
    expect(reply()).toMatchObject({ content: "late", finish_reason: "end_turn" });
  });

  it("passes reasoning_effort to the provider", async () => {
    const provider = new ScriptedProvider([[{ finish: "end_turn" }]]);
    const r = await startReply(deps(provider), { ...request(), body: { content: "hi", model: "openai/gpt-oss-20b", reasoning_effort: "low" } });
    const done = r.run(() => {}, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(10);
    await done;
    expect(provider.requests[0]!.reasoning_effort).toBe("low");
  });
});

describe("resume", () => {
  it("from every event id, the text before it plus the text after equals the stored reasoning and text", async () => {
    const provider = new ScriptedProvider([
      [{ reasoning: "ab" }, { wait: 100 }, { reasoning: "cdé" }, { wait: 300 }, ...words(6, 100), { finish: "max_tokens" }],
    ]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(3000);
    await s.done;
    const live = s.events();
    const row = reply();
    expect(row.finish_reason).toBe("max_tokens");
    for (let i = 0; i < live.length; i++) {
      const id = live[i]!.id;
      if (!id) continue;
      const r = await resumeReply(deps(provider), { conversationId: row.conversation_id, messageId: row.id, lastEventId: id });
      const seen = recorder();
      await r.run(seen.emit, new AbortController().signal);
      const before = live.slice(0, i + 1);
      const after = seen.events;
      expect(deltaText(before, "thinking_delta") + deltaText(after, "thinking_delta")).toBe(row.reasoning);
      expect(deltaText(before) + deltaText(after)).toBe(row.content);
      // The structure continues exactly: the events' names after the id are the live ones after it.
      expect(after.map((e) => e.event).filter((n) => n !== "content_block_delta")).toEqual(
        live.slice(i + 1).map((e) => e.event).filter((n) => n !== "content_block_delta"),
      );
    }
  });

  it("follows a live reply by polling and ends with it", async () => {
    const provider = new ScriptedProvider([[...words(10, 100), { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(300);
    const r = await resumeReply(deps(provider), { conversationId: store.conversation.id, messageId: reply().id, lastEventId: null });
    const followed = recorder();
    const following = r.run(followed.emit, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all([s.done, following]);
    expect(deltaText(followed.events)).toBe(deltaText(s.events()));
    expect(followed.events.at(-1)!.event).toBe("message_stop");
  });

  it("is 404 for a user message or another conversation", async () => {
    const provider = new ScriptedProvider([[{ text: "x" }, { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(10);
    await s.done;
    const user = store.rows.find((r) => r.role === "user")!;
    await expect(resumeReply(deps(provider), { conversationId: store.conversation.id, messageId: user.id, lastEventId: null })).rejects.toMatchObject({ status: 404 });
    await expect(resumeReply(deps(provider), { conversationId: crypto.randomUUID(), messageId: reply().id, lastEventId: null })).rejects.toMatchObject({ status: 404 });
  });
});

describe("cancel", () => {
  it("stops the producer at its next flush: upstream aborted, partial stored as cancelled, every stream closed", async () => {
    const provider = new ScriptedProvider([[...words(100, 50), { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(300);
    const r = await resumeReply(deps(provider), { conversationId: store.conversation.id, messageId: reply().id, lastEventId: null });
    const followed = recorder();
    const following = r.run(followed.emit, new AbortController().signal);
    await expect(cancelReply(deps(provider), { conversationId: store.conversation.id, messageId: reply().id })).resolves.toMatchObject({ status: "cancelling" });
    await vi.advanceTimersByTimeAsync(FLUSH);
    expect(provider.requests[0]!.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(2 * FLUSH);
    await Promise.all([s.done, following]);
    expect(reply().finish_reason).toBe("cancelled");
    expect(reply().content).toBe(deltaText(s.events()));
    for (const events of [s.events(), followed.events]) {
      expect(events.slice(-2).map((e) => e.event)).toEqual(["message_delta", "message_stop"]);
      expect(events.at(-2)!.data.delta.stop_reason).toBe("cancelled");
    }
    expect(deltaText(followed.events)).toBe(reply().content);
    // Once ended: 409 naming the finish reason.
    await expect(cancelReply(deps(provider), { conversationId: store.conversation.id, messageId: reply().id })).rejects.toMatchObject({
      status: 409,
      message: expect.stringContaining("cancelled"),
    });
  });

  it("ignores a client disconnect unless DISCONNECT_CANCELS is on", async () => {
    for (const on of [false, true]) {
      store = new MemoryStore();
      const provider = new ScriptedProvider([[...words(10, 50), { finish: "end_turn" }]]);
      const r = await startReply(deps(provider, { DISCONNECT_CANCELS: on }), request());
      const gone = new AbortController();
      const done = r.run(() => {}, gone.signal);
      await vi.advanceTimersByTimeAsync(120);
      gone.abort();
      await vi.advanceTimersByTimeAsync(2000);
      await done;
      expect(reply().finish_reason).toBe(on ? "cancelled" : "end_turn");
    }
  });
});

describe("stale replies and time limits", () => {
  it("a reply whose producer went silent reads as error after the stale window", async () => {
    const provider = new ScriptedProvider([[...words(30, 50), { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(FLUSH);
    expect(reply().content).not.toBe("");
    // The producer dies: its timers never fire again.
    vi.clearAllTimers();
    void s.done;
    const row = reply();
    expect(row.finish_reason).toBeNull();
    const heartbeat = store.rows.find((r) => r.id === row.id)!.heartbeat;
    vi.setSystemTime(heartbeat + settings.REPLY_STALE_MS - 1);
    expect((await store.getReply(row.id, settings.REPLY_STALE_MS))!.finish_reason).toBeNull();
    vi.setSystemTime(heartbeat + settings.REPLY_STALE_MS + 1);
    const r = await resumeReply(deps(provider), { conversationId: row.conversation_id, messageId: row.id, lastEventId: null });
    const followed = recorder();
    await r.run(followed.emit, new AbortController().signal);
    expect(reply()).toMatchObject({ finish_reason: "error", metadata: { error: { type: "api_error" } } });
    expect(followed.events.at(-1)!.event).toBe("error");
    expect(deltaText(followed.events)).toBe(reply().content);
  });

  it("the first-token timeout and the total-duration cap end the reply as a stored error", async () => {
    const provider = new ScriptedProvider([[{ wait: 10_000 }, { finish: "end_turn" }], [...words(1000, 50), { finish: "end_turn" }]]);
    const s = await send(deps(provider));
    await vi.advanceTimersByTimeAsync(settings.FIRST_TOKEN_TIMEOUT_MS + 10);
    await s.done;
    expect(reply()).toMatchObject({ finish_reason: "error", metadata: { error: { type: "timeout_error" } } });

    store = new MemoryStore();
    const capped = await send(deps(provider, { REPLY_MAX_DURATION_MS: 2000 }));
    await vi.advanceTimersByTimeAsync(2100);
    await capped.done;
    expect(reply()).toMatchObject({ finish_reason: "error", metadata: { error: { message: "The reply reached its time limit" } } });
    expect(reply().content).toBe(deltaText(capped.events()));
  });
});

describe("idempotent sends", () => {
  it("concurrent sends with one key: one model call, the others follow it and get the same text", async () => {
    const provider = new ScriptedProvider([[...words(8, 60), { finish: "end_turn" }]]);
    const sends = await Promise.all([1, 2, 3].map(() => send(deps(provider), "k")));
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all(sends.map((s) => s.done));
    expect(provider.requests).toHaveLength(1);
    const texts = sends.map((s) => deltaText(s.events()));
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).toBe(reply().content);
    expect(store.rows.filter((r) => r.role === "user")).toHaveLength(1);
    // After completion: 409 with the reply id; other content under the key: 422 naming the header.
    await expect(startReply(deps(provider), request("k"))).rejects.toMatchObject({ status: 409, replyId: reply().id });
    await expect(startReply(deps(provider), request("k", "other"))).rejects.toMatchObject({
      status: 422,
      fields: [{ path: "header.idempotency-key" }],
    });
  });
});
