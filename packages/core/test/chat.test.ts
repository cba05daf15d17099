// Unit tests of the pure parts of a turn: what goes into the prompt, and what a reused Idempotency-Key means.
import { describe, expect, it } from "vitest";
import { buildPrompt, MESSAGE_OVERHEAD_TOKENS, PROMPT_OVERHEAD_TOKENS } from "../src/chat/prompt";
import type { TokenCounter } from "../src/chat/types";
import { planSend } from "../src/chat/idempotency";
import { AppError } from "../src/errors";
import type { Message } from "../src/schemas";
import type { TurnContext } from "../src/ports";

let n = 0;
const msg = (role: "user" | "assistant", content: string, finish: Message["finish_reason"] = role === "user" ? null : "end_turn"): Message => ({
  id: `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`,
  conversation_id: "c",
  parent_id: null,
  reasoning: "",
  role,
  content,
  model: null,
  token_count: null,
  input_tokens: null,
  finish_reason: finish,
  latency_ms: null,
  ttft_ms: null,
  metadata: {},
  created_at: "2026-01-01T00:00:00Z",
});
const words: TokenCounter = (t) => t.split(" ").filter(Boolean).length;
const cost = (t: string) => words(t) + MESSAGE_OVERHEAD_TOKENS;

describe("buildPrompt", () => {
  it("keeps the newest whole messages that fit and counts the rest as omitted", () => {
    const history = [msg("user", "a b c d"), msg("assistant", "e f g"), msg("user", "h i"), msg("assistant", "j")];
    const fixed = PROMPT_OVERHEAD_TOKENS + cost("sys") + cost("new q");
    const p = buildPrompt("sys", history, "new q", fixed + cost("j") + cost("h i"), words);
    expect(p.messages.map((m) => m.content)).toEqual(["sys", "h i", "j", "new q"]);
    expect(p.omitted).toBe(2);
    expect(p.input_tokens).toBe(fixed + cost("j") + cost("h i"));
  });

  it("always sends the system prompt and the new message, even alone over budget", () => {
    const p = buildPrompt("sys", [msg("user", "old")], "a very long question indeed", 1, words);
    expect(p.messages.map((m) => m.role)).toEqual(["system", "user"]);
    expect(p.omitted).toBe(1);
  });

  it("leaves out replies that failed before producing any text", () => {
    const p = buildPrompt(null, [msg("user", "q"), msg("assistant", "", "error")], "again", 10_000, words);
    expect(p.messages).toEqual([
      { role: "user", content: "q" },
      { role: "user", content: "again" },
    ]);
  });
});

describe("planSend", () => {
  const turn = (history: Message[], user?: Message): TurnContext => ({
    conversation: { id: "c", title: null, system_prompt: null, model: "m", created_at: "", updated_at: "" },
    history,
    parent_found: true,
    idempotent: user ? { user_message: user, reply: history.find((m, i) => m.role === "assistant" && i > history.indexOf(user)) ?? null } : null,
  });
  const conflict = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as AppError;
    }
    throw new Error("expected a conflict");
  };

  it("passes a new send through", () => {
    const h = [msg("user", "a")];
    expect(planSend(turn(h), "a")).toEqual({ retried: null, history: h });
  });

  it("answers again a send whose replies all failed, from the history before it", () => {
    const before = msg("user", "before");
    const u = msg("user", "q");
    const plan = planSend(turn([before, u, msg("assistant", "part", "error"), msg("assistant", "", "cancelled")], u), "q");
    expect(plan).toEqual({ retried: u, history: [before] });
  });

  it("answers again a send still waiting for its reply (the first attempt is in flight or was lost)", () => {
    const u = msg("user", "q");
    expect(planSend(turn([u], u), "q").retried).toBe(u);
  });

  it("is 409 with the finished reply's id, even when a failed attempt came first", () => {
    const u = msg("user", "q");
    const done = msg("assistant", "ok");
    const e = conflict(() => planSend(turn([u, msg("assistant", "x", "error"), done], u), "q"));
    expect(e).toMatchObject({ type: "conflict_error", replyId: done.id });
  });

  it("is 409 when a later user message exists, or the send is older than the loaded history", () => {
    const u = msg("user", "q");
    const failed = msg("assistant", "", "error");
    expect(conflict(() => planSend(turn([u, failed, msg("user", "next")], u), "q")).replyId).toBe(failed.id);
    const old = msg("user", "old");
    const t = turn([msg("user", "recent")]);
    t.idempotent = { user_message: old, reply: msg("assistant", "x", "error") };
    expect(conflict(() => planSend(t, "old")).type).toBe("conflict_error");
  });

  it("is 422 naming the header when the key comes back with other content", () => {
    const u = msg("user", "q");
    expect(conflict(() => planSend(turn([u], u), "other"))).toMatchObject({
      type: "validation_error",
      fields: [{ path: "header.idempotency-key" }],
    });
  });
});
