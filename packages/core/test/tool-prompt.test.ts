// Unit tests of the prompt a tool loop builds: stored calls and results become the model's turns, a
// message of results and the reply it answers are kept or dropped together, a call nobody answered is
// left out, and everything is counted.
import { describe, expect, it } from "vitest";
import { buildPrompt, countPrompt, fitsWithoutCounting, type PromptMessage } from "../src/chat/prompt";
import { askedOf } from "../src/chat/asked";
import type { TokenCounter } from "../src/chat/types";

const words: TokenCounter = (t) => t.split(/[ ":{},]+/).filter(Boolean).length;
let n = 0;
const id = () => `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}`;
const user = (content: string, results?: [string, string][]): PromptMessage => ({
  id: id(),
  role: "user",
  content,
  ...(results && { tool_result: results.map(([tool_use_id, c]) => ({ type: "tool_result" as const, tool_use_id, content: c, is_error: false })) }),
});
const calling = (content: string, calls: [string, string, unknown][]): PromptMessage => ({
  id: id(),
  role: "assistant",
  content,
  tool_use: calls.map(([cid, name, input]) => ({ type: "tool_use" as const, id: cid, name, input })),
});

describe("buildPrompt with tools", () => {
  it("turns a reply's calls into tool_calls and a message's results into tool turns before its text, and counts them", () => {
    const history = [user("weather?"), calling("Checking.", [["c1", "get_weather", { city: "Paris" }]]), user("thanks", [["c1", "sunny"]]), calling("Sunny.", [])];
    const p = buildPrompt(null, history, "and tomorrow?", 10_000, words);
    expect(p.messages).toEqual([
      { role: "user", content: "weather?" },
      { role: "assistant", content: "Checking.", tool_calls: [{ id: "c1", name: "get_weather", input: '{"city":"Paris"}' }] },
      { role: "tool", tool_use_id: "c1", content: "sunny" },
      { role: "user", content: "thanks" },
      { role: "assistant", content: "Sunny." },
      { role: "user", content: "and tomorrow?" },
    ]);
    expect(p.input_tokens).toBe(countPrompt(p.messages, words));
  });

  it("sends a new message's results after the reply they answer, which is always kept, even over budget", () => {
    const reply = calling("", [["c1", "lookup", "{\"q\": 1}"], ["c2", "lookup", {}]]);
    const ask = askedOf([
      { type: "tool_result", tool_use_id: "c1", content: [{ type: "text", text: "one" }, { type: "text", text: "two" }] },
      { type: "tool_result", tool_use_id: "c2", content: "boom", is_error: true },
    ]);
    const p = buildPrompt(null, [user("a long question indeed"), reply], ask, 1, words);
    expect(p.messages).toEqual([
      { role: "assistant", content: "", tool_calls: [{ id: "c1", name: "lookup", input: "{\"q\": 1}" }, { id: "c2", name: "lookup", input: "{}" }] },
      { role: "tool", tool_use_id: "c1", content: "one\ntwo" },
      { role: "tool", tool_use_id: "c2", content: "boom", is_error: true },
    ]);
    expect(p.omitted).toBe(1);
  });

  it("keeps or drops a message of results together with the reply it answers", () => {
    const history = [user("q"), calling("x", [["c1", "t", {}]]), user("", [["c1", "r"]]), calling("done", [])];
    const all = buildPrompt(null, history, "next", 10_000, words);
    // Room for the last reply, and for the results without their call, but not for both together.
    const withoutPair = countPrompt([{ role: "assistant", content: "done" }, { role: "user", content: "next" }, { role: "tool", tool_use_id: "c1", content: "r" }], words);
    const p = buildPrompt(null, history, "next", withoutPair + 1, words);
    expect(p.messages).toEqual([{ role: "assistant", content: "done" }, { role: "user", content: "next" }]);
    expect(p.omitted).toBe(3);
    expect(all.messages.some((m) => m.role === "tool")).toBe(true);
  });

  it("leaves out calls nobody answered (a reply cut off mid-call), and results of calls it does not hold", () => {
    const history = [user("q"), calling("partial", [["c1", "t", '{"a": ']]), user("again", [["c9", "stray"]])];
    const p = buildPrompt(null, history, "ok?", 10_000, words);
    expect(p.messages).toEqual([
      { role: "user", content: "q" },
      { role: "assistant", content: "partial" },
      { role: "user", content: "again" },
      { role: "user", content: "ok?" },
    ]);
  });

  it("counts results and calls when deciding whether counting can be skipped", () => {
    const big = "x".repeat(300);
    expect(fitsWithoutCounting(null, [calling("", [["c1", "t", { big }]])], askedOf([{ type: "tool_result", tool_use_id: "c1", content: big }]), 500)).toBe(false);
    expect(fitsWithoutCounting(null, [calling("", [["c1", "t", {}]])], askedOf([{ type: "tool_result", tool_use_id: "c1", content: "ok" }]), 500)).toBe(true);
  });
});
