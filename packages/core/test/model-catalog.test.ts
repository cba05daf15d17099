// The refreshing model list: read once at creation, read again in the background once older than its
// TTL, the stale copy kept while the provider is down. An injected clock and a loader the test answers
// by hand; each step waits on the catalog's own events (onLoaded, onFailed), never on time.
import { describe, expect, it } from "vitest";
import { refreshingCatalog, servedModels, type ModelSnapshot, type ServedModel } from "../src/model-catalog";

const GPT = { id: "openai/gpt-oss-20b", context_window: 131_072, max_output_tokens: 65_536 };
const QWEN = { id: "qwen/qwen3.6-27b", context_window: 131_072, max_output_tokens: 16_384 };

/** A loader whose every call waits until the test answers it, and a catalog over it with a hand-moved clock. */
function harness(ttlMs = 600_000, retryMs = 15_000) {
  const calls: { resolve: (m: ServedModel[]) => void; reject: (e: unknown) => void }[] = [];
  const events: ({ loaded: ModelSnapshot } | { failed: unknown; kept: ModelSnapshot | null })[] = [];
  let waiting: (() => void) | undefined;
  const next = () => new Promise<void>((resolve) => (waiting = resolve));
  let clock = Date.parse("2026-12-01T00:00:00.000Z");
  const catalog = refreshingCatalog({
    source: "groq",
    servedBy: "Groq",
    ttlMs,
    retryMs,
    now: () => clock,
    load: () => new Promise<ServedModel[]>((resolve, reject) => calls.push({ resolve, reject })),
    onLoaded: (loaded) => (events.push({ loaded }), waiting?.()),
    onFailed: (failed, kept) => (events.push({ failed, kept }), waiting?.()),
  });
  return {
    catalog,
    calls,
    events,
    advance: (ms: number) => void (clock += ms),
    /** Answers the pending read and waits until the catalog has taken the answer in. */
    answer: async (models: ServedModel[]) => {
      const told = next();
      calls.at(-1)!.resolve(models);
      await told;
    },
    fail: async (e: unknown) => {
      const told = next();
      calls.at(-1)!.reject(e);
      await told;
    },
  };
}

describe("the refreshing model list", () => {
  it("reads the list once when created; the copy answers lookups until it is older than the TTL", async () => {
    const h = harness();
    expect(h.catalog.current()).toBeNull();
    await h.answer([GPT, QWEN]);
    await h.catalog.ready();
    const first = h.catalog.current()!;
    expect(first).toMatchObject({ source: "groq", served_by: "Groq", fetched_at: "2026-12-01T00:00:00.000Z" });
    expect(first.get("qwen/qwen3.6-27b")).toEqual(QWEN);
    expect(first.get("llama-3.1-8b-instant")).toBeUndefined();
    h.advance(599_999);
    h.catalog.current();
    expect(h.calls).toHaveLength(1);
  });

  it("after the TTL, hands out the stale copy while one background read replaces it", async () => {
    const h = harness();
    await h.answer([GPT, QWEN]);
    h.advance(600_000);
    const stale = h.catalog.current();
    h.catalog.current();
    expect(h.calls).toHaveLength(2); // one read, however many lookups
    expect(stale!.get(QWEN.id)).toEqual(QWEN);
    await h.answer([GPT]); // Groq retired qwen3.6
    const fresh = h.catalog.current()!;
    expect(fresh.get(QWEN.id)).toBeUndefined();
    expect(fresh.fetched_at).toBe("2026-12-01T00:10:00.000Z");
    expect(h.events.map((e) => ("loaded" in e ? "loaded" : "failed"))).toEqual(["loaded", "loaded"]);
  });

  it("keeps the stale copy while Groq is down, and tries again only after the retry wait", async () => {
    const h = harness();
    await h.answer([GPT, QWEN]);
    const copy = h.catalog.current();
    h.advance(600_000);
    h.catalog.current();
    const down = Object.assign(new Error("Service Unavailable"), { status: 503 });
    await h.fail(down);
    expect(h.events.at(-1)).toEqual({ failed: down, kept: copy });
    expect(h.catalog.current()).toBe(copy);
    h.advance(14_999);
    h.catalog.current();
    expect(h.calls).toHaveLength(2);
    h.advance(1);
    h.catalog.current();
    expect(h.calls).toHaveLength(3);
    await h.answer([GPT]);
    expect(h.catalog.current()!.get(QWEN.id)).toBeUndefined();
  });

  it("without any copy (the first read failed), says so and has no list: the configuration stands in", async () => {
    const h = harness();
    await h.fail(new Error("ECONNREFUSED"));
    await h.catalog.ready(); // settles, never rejects
    expect(h.events).toEqual([{ failed: expect.any(Error), kept: null }]);
    expect(h.catalog.current()).toBeNull();
    expect(await servedModels(h.catalog)).toBeNull();
  });

  it("lets a request wait for the first read, and go on without it when it does not come", async () => {
    const h = harness();
    const waiting = servedModels(h.catalog);
    await h.answer([GPT]);
    expect((await waiting)!.get(GPT.id)).toEqual(GPT);

    const slow = harness();
    expect(await servedModels(slow.catalog, 1)).toBeNull();
    expect(await servedModels(undefined)).toBeNull();
  });
});
