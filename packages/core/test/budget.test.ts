// The daily budget (access) in the durable reply loop: startReply reserves the worst case before the
// model is called, and the reply settles it once when it ends, however it ends. In-memory store whose
// ledger checks and reserves in one step (as begin_reply does under its lock), scripted provider,
// fake timers.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseConfig } from "../src/config";
import { cancelReply, startReply } from "../src/chat/stream-reply";
import type { ReplyDeps } from "../src/chat/types";
import { MemoryStore, ScriptedProvider, type Step } from "./fakes";

const MAX_TOKENS = 100;
const settings = parseConfig({
  FLUSH_INTERVAL_MS: "250",
  REPLY_STALE_MS: "1000",
  ALLOWED_MODELS: "m,openai/gpt-oss-20b",
  DEFAULT_MODEL: "m",
  DAILY_TOKEN_BUDGET: "1000",
});

let store: MemoryStore;
beforeEach(() => {
  vi.useFakeTimers();
  store = new MemoryStore();
});
afterEach(() => vi.useRealTimers());

const deps = (provider: ScriptedProvider): ReplyDeps => ({ store, provider, settings });
const request = (key: string | null = null, body: Record<string, unknown> = {}) => ({
  kind: "send" as const,
  conversationId: store.conversation.id,
  body: { content: "hi", max_tokens: MAX_TOKENS, ...body },
  idempotencyKey: key,
  receivedAt: performance.now(),
});
const words = (n: number, ms: number): Step[] => Array.from({ length: n }, (_, i) => [{ wait: ms }, { text: `w${i} ` }]).flat();
const entries = () => [...store.ledger.values()];
const reply = () => store.rows.find((r) => r.role === "assistant")!;

describe("budget in the durable loop", () => {
  it("50 concurrent sends never reserve past the budget, fill it to within one reservation, and every granted one settles once", async () => {
    const provider = new ScriptedProvider(Array.from({ length: 50 }, () => [{ text: "ok" }, { finish: "end_turn" as const }]));
    // One conversation each (one reply streams at a time per conversation), one user: a shared ledger.
    const stores = Array.from({ length: 50 }, () => Object.assign(new MemoryStore(), { ledger: store.ledger }));
    const results = await Promise.allSettled(
      stores.map((s) => startReply({ store: s, provider, settings }, { ...request(), conversationId: s.conversation.id })),
    );
    const granted = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    const reservation = entries()[0]!.tokens;
    expect(reservation).toBeGreaterThan(MAX_TOKENS);
    // A send is admitted only when its worst case fits what is left.
    expect(entries().length).toBe(granted.length);
    expect(granted.length * reservation).toBeLessThanOrEqual(settings.DAILY_TOKEN_BUDGET);
    expect((granted.length + 1) * reservation).toBeGreaterThan(settings.DAILY_TOKEN_BUDGET);
    expect(refused.length).toBe(50 - granted.length);
    for (const e of refused) expect(e).toMatchObject({ status: 429, retryAfter: expect.any(Number) });
    // A refused send stored nothing.
    expect(stores.filter((_, i) => results[i]!.status === "rejected").flatMap((s) => s.rows)).toHaveLength(0);

    const runs = granted.map((g) => g.run(() => {}, new AbortController().signal));
    await vi.advanceTimersByTimeAsync(1000);
    await Promise.all(runs);
    const replies = stores.flatMap((s) => s.rows.filter((r) => r.role === "assistant"));
    expect(replies.map((r) => r.finish_reason)).toEqual(granted.map(() => "end_turn"));
    // Settled to the real figures (our count of the prompt in, the provider's 4 out): the rest of each
    // reservation is given back.
    const prompt = replies[0]!.input_tokens!;
    expect(prompt).toBeGreaterThan(0);
    for (const r of replies) expect(r.input_tokens).toBe(prompt);
    expect(entries().map((e) => e.settled && [e.settled.input_tokens, e.settled.output_tokens])).toEqual(granted.map(() => [prompt, 4]));
    expect(store.ledgerTotal).toBe(granted.length * (prompt + 4));
  });

  it("refuses a send whose worst case alone exceeds the budget with a 429 naming both figures, before the database", async () => {
    const provider = new ScriptedProvider([[{ text: "never" }, { finish: "end_turn" }]]);
    const e = await startReply(deps(provider), request(null, { content: "x".repeat(4_000) })).catch((x: unknown) => x);
    expect(e).toMatchObject({ status: 429, retryAfter: expect.any(Number) });
    const message = (e as Error).message;
    expect(message).toContain(`daily token budget of ${settings.DAILY_TOKEN_BUDGET}`);
    const needed = Number(/needs up to (\d+) tokens/.exec(message)?.[1]);
    expect(needed).toBeGreaterThan(settings.DAILY_TOKEN_BUDGET);
    expect(store.beginCalls).toBe(0);
    expect(provider.requests).toHaveLength(0);
    expect(store.rows).toHaveLength(0);
  });

  it("settles a cancelled reply to what it used, after its final write", async () => {
    const provider = new ScriptedProvider([[...words(100, 50), { finish: "end_turn" }]]);
    const s = await startReply(deps(provider), request());
    const done = s.run(() => {}, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(400);
    expect(entries()[0]!.settled).toBeNull();
    await cancelReply(deps(provider), { conversationId: store.conversation.id, messageId: reply().id });
    await vi.advanceTimersByTimeAsync(1000);
    await done;
    expect(reply().finish_reason).toBe("cancelled");
    const [entry] = entries();
    expect(entries()).toHaveLength(1);
    // No usage from the upstream on a cancel: the stored (counted) figures are what is settled.
    expect(entry!.settled).toMatchObject({ input_tokens: reply().input_tokens, output_tokens: reply().token_count });
    expect(reply().token_count).toBeGreaterThan(0);
    expect(store.ledgerTotal).toBeLessThan(entry!.tokens);
  });

  it("settles a reply that hit the duration cap or failed to start", async () => {
    const provider = new ScriptedProvider([[{ wait: 10_000 }, { text: "late" }, { finish: "end_turn" }]]);
    const s = await startReply({ ...deps(provider), settings: { ...settings, FIRST_TOKEN_TIMEOUT_MS: 2000 } }, request());
    const done = s.run(() => {}, new AbortController().signal);
    await vi.advanceTimersByTimeAsync(3000);
    await done;
    expect(reply().finish_reason).toBe("error");
    // Nothing produced and nothing reported: settled to nothing.
    expect(entries()[0]!.settled).toMatchObject({ input_tokens: 0, output_tokens: 0 });
    expect(store.ledgerTotal).toBe(0);
  });

  it("a repeat that attaches to a streaming reply, or is refused, makes no reservation", async () => {
    const provider = new ScriptedProvider([[...words(8, 60), { finish: "end_turn" }]]);
    const first = await startReply(deps(provider), request("k"));
    const done = first.run(() => {}, new AbortController().signal);
    const attach = await startReply(deps(provider), request("k"));
    const following = attach.run(() => {}, new AbortController().signal);
    // The attach reserves nothing: only the producer's reservation counts.
    expect(entries()).toHaveLength(1);
    expect(store.ledgerTotal).toBe(entries()[0]!.tokens);
    // Another send while it streams: 409 naming the streaming reply (one at a time), nothing kept.
    await expect(startReply(deps(provider), request())).rejects.toMatchObject({ status: 409, replyId: reply().id });
    expect(entries()).toHaveLength(1);
    expect(store.ledgerTotal).toBe(entries()[0]!.tokens);
    await vi.advanceTimersByTimeAsync(3000);
    await Promise.all([done, following]);
    expect(provider.requests).toHaveLength(1);
    // Our count of the prompt in, the provider's 4 out.
    const settled = reply().input_tokens! + 4;
    expect(store.ledgerTotal).toBe(settled);
    // After completion a repeat is 409 before anything is reserved; a 422 reserves nothing either.
    await expect(startReply(deps(provider), request("k"))).rejects.toMatchObject({ status: 409 });
    await expect(startReply(deps(provider), request(null, { model: "openai/gpt-oss-20b", reasoning_effort: "none" }))).rejects.toMatchObject({
      status: 422,
    });
    expect(entries()).toHaveLength(1);
    expect(store.ledgerTotal).toBe(settled);
  });
});
