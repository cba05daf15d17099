import type { ChatTurn } from "../ports";
import type { Message } from "../schemas";
import { countById } from "./token-cache";
import type { Prompt, TokenCounter } from "./types";

/**
 * A deliberately pessimistic count for when no tokenizer is plugged in (or none exists for the model):
 * byte-level BPEs such as o200k and Qwen's average about 4 characters per token on English text, so
 * counting one per 3 bytes overestimates and the prompt stays inside the budget.
 */
export const estimateTokens: TokenCounter = (text) => Math.ceil(Buffer.byteLength(text, "utf8") / 3);

/**
 * gpt-oss's harmony format wraps every message in `<|start|>role<|message|> … <|end|>` (4 tokens; qwen's
 * `<|im_start|>role\n … <|im_end|>\n` is 5), and the prompt as a whole in the harmony system preamble
 * (model identity, dates, reasoning level) and the assistant header the model answers under (about 30
 * tokens together). The larger figure of each is kept.
 */
export const MESSAGE_OVERHEAD_TOKENS = 5;
export const PROMPT_OVERHEAD_TOKENS = 32;

/**
 * The system prompt plus as many of the most recent messages as fit `budget` tokens. The system prompt
 * and the new user message are always included, even alone over budget (the model then answers with
 * its own error); older turns are dropped whole, oldest first, so the prompt never starts mid-exchange
 * with a cut message.
 */
export function buildPrompt(
  systemPrompt: string | null,
  history: Pick<Message, "id" | "role" | "content">[],
  userContent: string,
  budget: number,
  count: TokenCounter = estimateTokens,
): Prompt {
  let used =
    PROMPT_OVERHEAD_TOKENS +
    (systemPrompt ? count(systemPrompt) + MESSAGE_OVERHEAD_TOKENS : 0) +
    count(userContent) +
    MESSAGE_OVERHEAD_TOKENS;
  const kept: ChatTurn[] = [];
  let i = history.length - 1;
  for (; i >= 0; i--) {
    const m = history[i]!;
    // A reply that failed before its first token has nothing to show the model.
    if (!m.content) continue;
    const c = countById(count, m.id, m.content) + MESSAGE_OVERHEAD_TOKENS;
    if (used + c > budget) break;
    used += c;
    kept.push({ role: m.role, content: m.content });
  }
  const messages: ChatTurn[] = systemPrompt ? [{ role: "system", content: systemPrompt }] : [];
  for (let k = kept.length - 1; k >= 0; k--) messages.push(kept[k]!);
  messages.push({ role: "user", content: userContent });
  return { messages, input_tokens: used, omitted: i + 1 };
}

/**
 * Whether the whole history fits the budget whatever the tokenizer says. A byte-level BPE (o200k,
 * Qwen's) never makes more tokens than bytes, so when the byte count fits, counting is unnecessary: the
 * common case skips loading the tokenizer and counting altogether, in front of the first token.
 */
export function fitsWithoutCounting(
  systemPrompt: string | null,
  history: Pick<Message, "content">[],
  userContent: string,
  budget: number,
): boolean {
  let bytes = PROMPT_OVERHEAD_TOKENS + Buffer.byteLength(userContent, "utf8") + MESSAGE_OVERHEAD_TOKENS;
  if (systemPrompt) bytes += Buffer.byteLength(systemPrompt, "utf8") + MESSAGE_OVERHEAD_TOKENS;
  for (const m of history) {
    bytes += Buffer.byteLength(m.content, "utf8") + MESSAGE_OVERHEAD_TOKENS;
    if (bytes > budget) return false;
  }
  return bytes <= budget;
}

/** Tokens of a built prompt, with the chat template's overhead, as `buildPrompt` counts them. */
export function countPrompt(messages: ChatTurn[], count: TokenCounter): number {
  return messages.reduce((n, m) => n + countTurn(m, count), PROMPT_OVERHEAD_TOKENS);
}

/** One turn's tokens with its template overhead: its text, and the name and input of each tool call it carries. */
export function countTurn(m: ChatTurn, count: TokenCounter): number {
  let n = count(m.content) + MESSAGE_OVERHEAD_TOKENS;
  if (m.role === "assistant" && m.tool_calls) for (const c of m.tool_calls) n += count(c.name) + count(c.input) + MESSAGE_OVERHEAD_TOKENS;
  return n;
}
