import type { ChatTurn } from "../ports";
import type { Message } from "../schemas";

export type TokenCounter = (text: string) => number;

/**
 * A deliberately pessimistic count for when no tokenizer is plugged in: Llama 3's tokenizer averages
 * about 4 characters per token on English text, so counting one per 3 bytes overestimates and the
 * prompt stays inside the budget. Every message also pays a few tokens of chat-template framing.
 */
export const estimateTokens: TokenCounter = (text) => Math.ceil(Buffer.byteLength(text, "utf8") / 3);
export const MESSAGE_OVERHEAD_TOKENS = 4;

export interface Prompt {
  messages: ChatTurn[];
  input_tokens: number;
  /** History messages left out because they did not fit the budget. */
  omitted: number;
}

/**
 * The system prompt plus as many of the most recent messages as fit `budget` tokens. The newest user
 * message is always included; older turns are dropped whole, oldest first.
 */
export function buildPrompt(
  systemPrompt: string | null,
  history: Pick<Message, "role" | "content">[],
  userContent: string | null,
  budget: number,
  count: TokenCounter = estimateTokens,
): Prompt {
  const cost = (text: string) => count(text) + MESSAGE_OVERHEAD_TOKENS;
  let used = (systemPrompt ? cost(systemPrompt) : 0) + (userContent !== null ? cost(userContent) : 0);
  const kept: ChatTurn[] = [];
  let i = history.length - 1;
  // When retrying an idempotent send, the user's message is already the last history item: always keep it.
  if (userContent === null && i >= 0) {
    const last = history[i]!;
    used += cost(last.content);
    kept.push({ role: last.role, content: last.content });
    i--;
  }
  for (; i >= 0; i--) {
    const m = history[i]!;
    const c = cost(m.content);
    if (used + c > budget) break;
    used += c;
    kept.push({ role: m.role, content: m.content });
  }
  kept.reverse();
  const messages: ChatTurn[] = [];
  if (systemPrompt) messages.push({ role: "system", content: systemPrompt });
  messages.push(...kept);
  if (userContent !== null) messages.push({ role: "user", content: userContent });
  return { messages, input_tokens: used, omitted: i + 1 };
}
