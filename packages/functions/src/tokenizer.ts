// Counts prompt tokens with Llama 3's own tokenizer (llama3-tokenizer-js: the 128k-token BPE vocabulary
// and merges baked into the package, so nothing is downloaded at run time). Llama 3.1 and 3.3 share that
// vocabulary; for the other allowed models (gpt-oss) it is a close stand-in, and the context budget keeps
// a wide margin below their windows anyway.
import type { TokenCounter } from "@conversation-api/core";

let loading: Promise<TokenCounter> | undefined;

/**
 * The package is 3 MB of vocabulary that takes ~0.3 s to parse, so it is loaded only when a count is
 * needed (a history too long to fit by its byte count, or a reply without upstream usage) and kept
 * out of the Lambda bundle (installed beside it instead, see stacks/bundling.ts).
 */
export function loadTokenCounter(): Promise<TokenCounter> {
  loading ??= import("llama3-tokenizer-js").then(({ default: tokenizer }) => {
    const options = { bos: false, eos: false };
    return (text: string) => (text ? tokenizer.encode(text, options).length : 0);
  });
  loading.catch(() => (loading = undefined));
  return loading;
}
