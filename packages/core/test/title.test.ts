// Conversation titles: the first-words fallback, cleaning the model's answer, and where the reply
// loop asks for one (after message_stop, before the stream's run resolves; only for an untitled
// conversation without a finished reply).
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config";
import { TITLE_MAX_CHARS, cleanTitle, firstWords, plainText, writeTitle, type TitleDeps } from "../src/chat/title";
import { startReply } from "../src/chat/stream-reply";
import type { ReplyDeps } from "../src/chat/types";
import type { CompletionRequest } from "../src/ports";
import { MemoryStore, ScriptedProvider, recorder, type Seen } from "./fakes";

describe("firstWords", () => {
  it("keeps a short message whole, with its spaces collapsed", () => {
    expect(firstWords("  How do   I bake\nbread?  ")).toBe("How do I bake bread?");
    expect(firstWords(" \n\t ")).toBeNull();
  });

  it("stops at a word boundary within the limit and says words were left out", () => {
    const text = "Please explain the difference between concurrency and parallelism in the Go runtime with examples";
    const title = firstWords(text)!;
    expect([...title].length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(title.endsWith("…")).toBe(true);
    const kept = title.slice(0, -1);
    // Every kept word is a whole word of the message, in order.
    expect(text.startsWith(kept)).toBe(true);
    expect(text[kept.length]).toBe(" ");
    expect(kept).toBe("Please explain the difference between concurrency and");
  });

  it("leaves no dangling punctuation before the ellipsis", () => {
    expect(firstWords("one, two; three: four five six seven", 17)).toBe("one, two; three…");
    expect(firstWords("one, two; three: four five six seven", 16)).toBe("one, two…");
    expect(firstWords("alpha beta, gamma delta", 13)).toBe("alpha beta…");
  });

  it("counts characters, not UTF-16 units, and cuts only a first word that is longer than the limit alone", () => {
    expect(firstWords("😀 ".repeat(40))!.length).toBeLessThanOrEqual(TITLE_MAX_CHARS * 2);
    expect([...firstWords("😀 ".repeat(40))!].length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    const url = `https://example.com/${"a".repeat(100)}`;
    const cut = firstWords(`${url} what is this?`)!;
    expect([...cut].length).toBe(TITLE_MAX_CHARS);
    expect(cut).toBe(`${url.slice(0, TITLE_MAX_CHARS - 1)}…`);
  });
});

describe("cleanTitle", () => {
  it("takes the first line without quotes, labels or final stop", () => {
    expect(cleanTitle('"Baking Sourdough Bread."')).toBe("Baking Sourdough Bread");
    expect(cleanTitle("Title: Go Concurrency Basics\n\nThis title covers…")).toBe("Go Concurrency Basics");
    expect(cleanTitle("**Title:** Rust lifetimes")).toBe("Rust lifetimes");
    expect(cleanTitle("<think>hmm</think>\nTax questions")).toBe("Tax questions");
    expect(cleanTitle("  \n ")).toBeNull();
    expect(cleanTitle('""')).toBeNull();
  });

  it("bounds a long answer by whole words", () => {
    const t = cleanTitle("A very long title that the model wrote although it was asked for six words only")!;
    expect([...t].length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(t).toBe("A very long title that the model wrote although it was…");
  });
});

describe("plainText", () => {
  it("drops markdown's marks and keeps what a reader sees", () => {
    expect(plainText("**Bold** and `code` and _emphasis_ and ~~struck~~")).toBe("Bold and code and emphasis and struck");
    expect(plainText("# Heading\n> quoted\n- item\n2. second\n- [x] done")).toBe(" Heading\nquoted\nitem\nsecond\ndone");
    expect(plainText("```python\nprint(1)\n```")).toBe("\nprint(1)\n");
    expect(plainText("[the docs](https://example.com) ![a chart](c.png) <kbd>Ctrl</kbd>")).toBe("the docs a chart Ctrl");
    // Marks inside words and arithmetic are text, not emphasis.
    expect(plainText("snake_case_name is 2*3*4")).toBe("snake_case_name is 2*3*4");
  });
});

describe("writeTitle", () => {
  const store = () => {
    const s = new MemoryStore();
    return s;
  };
  const since = new Date(Date.UTC(2026, 0, 1)).toISOString();
  const label = (m: string) => m;
  const answer = (text: string) => async () => ({ text });
  /** writeTitle's deps with no budget and a provider that names its model as asked. */
  const deps = (d: { store: TitleDeps["store"]; provider: Partial<TitleDeps["provider"]>; model: string; budget?: number; onFailure?: (e: unknown) => void }): TitleDeps => ({
    ...d,
    provider: { modelLabel: label, ...d.provider },
    budget: { tokens: d.budget ?? 0, since },
  });

  it("asks the model with a small max_tokens and the least reasoning, and stores its title", async () => {
    const s = store();
    const asked: Omit<CompletionRequest, "onAccepted" | "temperature">[] = [];
    await writeTitle(deps({ store: s, provider: { completeText: async (r) => (asked.push(r), { text: "Bread at home" }) }, model: "openai/gpt-oss-20b" }), s.conversation.id, "How do I bake bread?");
    expect(s.conversation.title).toBe("Bread at home");
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ model: "openai/gpt-oss-20b", reasoning_effort: "low" });
    expect(asked[0]!.max_tokens).toBeLessThanOrEqual(500);
    expect(asked[0]!.messages.at(-1)).toEqual({ role: "user", content: "How do I bake bread?" });
    // A model that can stop reasoning does, and needs no allowance for it.
    await writeTitle(deps({ store: store(), provider: { completeText: async (r) => (asked.push(r), { text: "x" }) }, model: "qwen/qwen3.6-27b" }), "id", "q");
    expect(asked[1]).toMatchObject({ reasoning_effort: "none", max_tokens: 24 });
  });

  it("titles in plain text: markdown in the model's answer or in the first message is stripped", async () => {
    const s = store();
    await writeTitle(deps({ store: s, provider: { completeText: answer("**Title:** Baking `sourdough` *bread*") }, model: "m" }), s.conversation.id, "q");
    expect(s.conversation.title).toBe("Baking sourdough bread");
    const t = store();
    await writeTitle(deps({ store: t, provider: {}, model: "m" }), t.conversation.id, "## Fix **this**\n\n```js\nconst x = 1;\n```");
    expect(t.conversation.title).toBe("Fix this const x = 1;");
  });

  it("falls back to the first words when the model fails or answers nothing, and reports the failure", async () => {
    const s = store();
    const failures: unknown[] = [];
    await writeTitle(
      deps({ store: s, provider: { completeText: async () => Promise.reject(new Error("503")) }, model: "m", onFailure: (e) => failures.push(e) }),
      s.conversation.id,
      "Plan a trip to Lisbon",
    );
    expect(s.conversation.title).toBe("Plan a trip to Lisbon");
    expect(failures).toHaveLength(1);
    const t = store();
    await writeTitle(deps({ store: t, provider: { completeText: answer("  ") }, model: "m" }), t.conversation.id, "Plan a trip");
    expect(t.conversation.title).toBe("Plan a trip");
  });

  it("uses the first words without a model, and never replaces a title", async () => {
    const s = store();
    await writeTitle(deps({ store: s, provider: {}, model: "m" }), s.conversation.id, "Offline question here");
    expect(s.conversation.title).toBe("Offline question here");
    await writeTitle(deps({ store: s, provider: { completeText: answer("New") }, model: "m" }), s.conversation.id, "x");
    expect(s.conversation.title).toBe("Offline question here");
  });

  it("swallows a failed write", async () => {
    const failures: unknown[] = [];
    const s = { reserveTitle: async () => true, settleTokens: async () => true, setDefaultTitle: () => Promise.reject(new Error("db down")) };
    await expect(writeTitle(deps({ store: s, provider: {}, model: "m", onFailure: (e) => failures.push(e) }), "id", "hello")).resolves.toBeUndefined();
    expect(failures).toHaveLength(1);
  });

  it("reserves the call's worst case in the ledger and settles it at what the upstream reported", async () => {
    const s = store();
    const reported = { input_tokens: 61, output_tokens: 7 };
    await writeTitle(deps({ store: s, provider: { completeText: async () => ({ text: "Bread", usage: reported }) }, model: "m", budget: 10_000 }), s.conversation.id, "How do I bake bread?");
    expect(s.conversation.title).toBe("Bread");
    const [entry, ...more] = [...s.ledger.values()];
    expect(more).toHaveLength(0);
    // The worst case covers the prompt and the output limit, and is replaced by the real figures.
    expect(entry!.tokens).toBeGreaterThan(24);
    expect(entry!.settled).toMatchObject(reported);
    expect(s.ledgerTotal).toBe(68);
  });

  it("does not ask the model when the title's worst case does not fit the budget, and settles a failed call at its worst case", async () => {
    const full = store();
    let asked = 0;
    const provider = { completeText: async () => (asked++, { text: "Never" }) };
    await writeTitle(deps({ store: full, provider, model: "m", budget: 30 }), full.conversation.id, "How do I bake bread?");
    expect(asked).toBe(0);
    expect(full.conversation.title).toBe("How do I bake bread?");
    expect(full.ledger.size).toBe(0);

    const failed = store();
    await writeTitle(deps({ store: failed, provider: { completeText: async () => Promise.reject(new Error("timeout")) }, model: "m", budget: 10_000, onFailure: () => {} }), failed.conversation.id, "Plan a trip");
    const [entry] = [...failed.ledger.values()];
    expect(entry!.settled).not.toBeNull();
    expect(failed.ledgerTotal).toBe(entry!.tokens);
  });
});

describe("titles in the reply loop", () => {
  const settings = parseConfig({ ALLOWED_MODELS: "m", DEFAULT_MODEL: "m", FLUSH_INTERVAL_MS: "50" });

  /** A provider whose completeText records what the client had received when it was called. */
  function titledProvider(scripts: ConstructorParameters<typeof ScriptedProvider>[0], seen: () => Seen[]) {
    const p = new ScriptedProvider(scripts) as ScriptedProvider & { completeText: (r: unknown) => Promise<{ text: string }>; streamedBefore: Seen[][] };
    p.streamedBefore = [];
    p.completeText = async () => {
      p.streamedBefore.push([...seen()]);
      return { text: "Model Title" };
    };
    return p;
  }

  async function send(d: ReplyDeps, content: string, out: ReturnType<typeof recorder>) {
    const reply = await startReply(d, {
      kind: "send",
      conversationId: (d.store as MemoryStore).conversation.id,
      body: { content },
      idempotencyKey: null,
      receivedAt: performance.now(),
    });
    return reply.run(out.emit, new AbortController().signal);
  }

  it("asks for the title after message_stop was written, and is done when the stream's run resolves", async () => {
    const store = new MemoryStore();
    const out = recorder();
    const provider = titledProvider([[{ text: "Hello" }, { finish: "end_turn" }], [{ text: "Again" }, { finish: "end_turn" }]], () => out.events);
    await send({ store, provider, settings }, "First question", out);
    expect(provider.streamedBefore).toHaveLength(1);
    const before = provider.streamedBefore[0]!;
    expect(before.at(-1)!.event).toBe("message_stop");
    expect(store.conversation.title).toBe("Model Title");
    // The second reply does not ask again.
    await send({ store, provider, settings }, "Second", recorder());
    expect(provider.streamedBefore).toHaveLength(1);
  });

  it("leaves a conversation the user titled alone", async () => {
    const store = new MemoryStore();
    store.conversation = { ...store.conversation, title: "Mine" };
    const out = recorder();
    const provider = titledProvider([[{ text: "Hello" }, { finish: "end_turn" }]], () => out.events);
    await send({ store, provider, settings }, "Question", out);
    expect(provider.streamedBefore).toHaveLength(0);
    expect(store.conversation.title).toBe("Mine");
  });
});
