// The o200k count that fits a history into a model's context window (and answers count_tokens):
// exact for ordinary text, and for long runs without a break (one long word, CJK text, a row of
// punctuation or spaces, emoji) counted in pieces, never below the exact count.
import { countTokens } from "gpt-tokenizer/encoding/o200k_harmony";
import { describe, expect, it } from "vitest";
import { countInPieces, loadTokenCounter, RUN } from "../src/tokenizer";

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const exact = (text: string) => countTokens(text, { disallowedSpecial: new Set<string>() });

/** A deterministic pseudo-random string over `alphabet` (a linear congruential generator). */
function text(length: number, alphabet: string, seed = 7): string {
  const chars = [...alphabet];
  let x = seed;
  let out = "";
  for (let i = 0; i < length; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    out += chars[x % chars.length];
  }
  return out;
}

const RUNS: [string, string][] = [
  ["one long word", text(6_000, "abcdefghijklmnopqrstuvwxyz")],
  ["CJK text", text(4_000, "漢字日本語中文한국어")],
  ["a row of punctuation", "_".repeat(6_000)],
  ["a row of spaces", " ".repeat(6_000)],
  ["emoji", "😀🎉".repeat(1_500)],
  ["a long word between prose", `Before the blob, ${text(3_000, "xyzw")} and after it.`],
];

describe("the o200k counter", () => {
  it("counts ordinary text exactly", async () => {
    const count = await loadTokenCounter("openai/gpt-oss-20b");
    for (const prose of ["", "Hello", "The quick brown fox jumps over the lazy dog. ".repeat(400), "12345678901234567890 ".repeat(100), "<|end|> is text here"]) {
      expect(count(prose)).toBe(exact(prose));
    }
  });

  it.each(RUNS)("counts %s in pieces: never below the exact count, at most one token more per piece", async (_, input) => {
    const count = await loadTokenCounter("openai/gpt-oss-20b");
    const n = count(input);
    const pieces = Math.ceil(input.length / RUN) + 1;
    expect(n).toBeGreaterThanOrEqual(exact(input));
    expect(n).toBeLessThanOrEqual(exact(input) + pieces);
  });

  it("hands the byte-pair merge no piece of a long run longer than RUN characters, and never half a surrogate pair", () => {
    const seen: string[] = [];
    const count = countInPieces((t) => (seen.push(t), t.length));
    const input = `lead ${"ab".repeat(700)} !${"😀".repeat(300)}${" ".repeat(600)}tail`;
    expect(count(input)).toBe(input.length);
    expect(seen.join("")).toBe(input);
    for (const piece of seen) {
      if (piece.length > RUN) expect(piece).not.toMatch(new RegExp(`[\\p{L}\\p{M}]{${RUN + 1}}|[^\\s\\p{L}\\p{N}]{${RUN + 1}}|\\s{${RUN + 1}}`, "u"));
      expect(piece).not.toMatch(LONE_SURROGATE);
    }
  });

  it("is what the reply's counter uses: a long run is counted as its pieces, not as one", async () => {
    const count = await loadTokenCounter("openai/gpt-oss-20b");
    const input = text(4_000, "abcdefghijklmnopqrstuvwxyz", 11);
    const inPieces = countInPieces(exact)(input);
    // The input is one for which the two differ, so this can tell them apart.
    expect(inPieces).not.toBe(exact(input));
    expect(count(input)).toBe(inPieces);
  });
});
