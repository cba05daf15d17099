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
    return (text: string) => (text ? countTokens(text, options) : 0);
  });
  o200k.catch(() => (o200k = undefined));
  return o200k;
}
