// Counts tokens with the tokenizer of the model that will read them. gpt-oss uses OpenAI's o200k
// encoding in its harmony variant (gpt-tokenizer's `o200k_harmony`: the vocabulary is baked into the
// package, nothing is downloaded at run time). Models without a tokenizer here (qwen3: no well-kept
// npm package for its 248k-token vocabulary) use core's byte-based estimate, which never undercounts
// a byte-level BPE; the family table (packages/core/src/models.ts) says which is which.
import { estimateTokens, modelTraits, type TokenCounter } from "@conversation-api/core";

let o200k: Promise<TokenCounter> | undefined;

/**
 * The vocabulary is a few MB to parse, so it is loaded only when a count is needed (a history too long
 * to fit by its byte count, or a reply without upstream usage) and kept out of the Lambda bundle
 * (installed beside it instead, see stacks/bundling.ts).
 */
export function loadTokenCounter(model: string): Promise<TokenCounter> {
  if (modelTraits(model).tokenizer !== "o200k") return Promise.resolve(estimateTokens);
  o200k ??= import("gpt-tokenizer/encoding/o200k_harmony").then(({ countTokens }) => {
    // User text that spells a special token ("<|end|>") is counted as text, not refused.
    const options = { disallowedSpecial: new Set<string>() };
    return countInPieces((text) => (text ? countTokens(text, options) : 0));
  });
  o200k.catch(() => (o200k = undefined));
  return o200k;
}

/**
 * o200k's pre-tokenizer leaves runs of letters (a word, or CJK text, which has no spaces), of
 * punctuation and of whitespace unbounded, and byte-pair merging is quadratic in a piece's length: one
 * 32,000-character run costs over a second of CPU where prose of the same length costs milliseconds
 * (openai/tiktoken#195, coder/ai-tokenizer#6). Such runs are counted in pieces of at most RUN
 * characters instead. A cut can only stop a merge across it, so the count is never lower than the
 * exact one, and is within a token per piece of it.
 */
export const RUN = 256;
const LONG_RUN = new RegExp(`[\\p{L}\\p{M}]{${RUN},}|[^\\s\\p{L}\\p{N}]{${RUN},}|\\s{${RUN},}`, "gu");

export function countInPieces(count: TokenCounter): TokenCounter {
  return (text) => {
    if (text.length < RUN) return count(text);
    let n = 0;
    let from = 0;
    for (const m of text.matchAll(LONG_RUN)) {
      n += count(text.slice(from, m.index));
      const run = m[0];
      for (let i = 0; i < run.length; ) {
        let j = Math.min(i + RUN, run.length);
        // Never between the two halves of a surrogate pair (an emoji).
        if (j < run.length && isHighSurrogate(run.charCodeAt(j - 1))) j++;
        n += count(run.slice(i, j));
        i = j;
      }
      from = m.index + run.length;
    }
    return n + count(text.slice(from));
  };
}

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;
