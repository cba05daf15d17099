import type { TokenCounter } from "./types";

const MAX_ENTRIES = 4096;
const caches = new WeakMap<TokenCounter, Map<string, number>>();

/**
 * Every turn re-counts the conversation's history, and a stored message never changes, so its count is
 * kept by message id: a long conversation costs one tokenizer pass per new message instead of one per
 * message per turn (a real tokenizer spends ~1 ms per 1,000 tokens, all of it before the first token).
 * Bounded; the oldest entries go first.
 */
export function countById(count: TokenCounter, id: string, text: string): number {
  let cache = caches.get(count);
  if (!cache) caches.set(count, (cache = new Map()));
  let n = cache.get(id);
  if (n === undefined) {
    n = count(text);
    if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(id, n);
  }
  return n;
}
