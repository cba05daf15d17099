import type { ChatToolCall, ChatTurn } from "../ports";
import type { Asked } from "./asked";
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

/** A stored message as a prompt reads it: its text, the calls a reply made, the results a user message carried. */
export type PromptMessage = Pick<Message, "id" | "role" | "content"> & Partial<Pick<Message, "tool_use" | "tool_result">>;

/**
 * The system prompt plus as many of the most recent messages as fit `budget` tokens. The system prompt
 * and the new user message are always included, even alone over budget (the model then answers with
 * its own error); older turns are dropped whole, oldest first, so the prompt never starts mid-exchange
 * with a cut message. A message of tool results and the reply whose calls it answers are kept or
 * dropped together (a result means nothing without its call, and the provider refuses one alone); the
 * reply a new message's results answer is always kept.
 */
export function buildPrompt(
  systemPrompt: string | null,
  history: PromptMessage[],
  asked: string | Asked,
  budget: number,
  count: TokenCounter = estimateTokens,
): Prompt {
  const ask = typeof asked === "string" ? { content: asked, tool_result: null } : asked;
  const msgs: PromptMessage[] = [...history, { id: "", role: "user", content: ask.content, ...(ask.tool_result && { tool_result: ask.tool_result }) }];
  const turns = msgs.map((m, i) => turnsOf(m, msgs[i - 1], msgs[i + 1]));
  const cost = (i: number) => turns[i]!.reduce((n, t) => n + countTurn(t, count, msgs[i]!.id || undefined), 0);
  let used = PROMPT_OVERHEAD_TOKENS + (systemPrompt ? count(systemPrompt) + MESSAGE_OVERHEAD_TOKENS : 0) + cost(msgs.length - 1);
  const kept: ChatTurn[][] = [];
  let i = history.length - 1;
  if (ask.tool_result && i >= 0 && history[i]!.role === "assistant") {
    used += cost(i);
    kept.push(turns[i]!);
    i--;
  }
  for (; i >= 0; i--) {
    const from = msgs[i]!.role === "user" && msgs[i]!.tool_result?.length && i > 0 && msgs[i - 1]!.role === "assistant" ? i - 1 : i;
    let c = 0;
    for (let k = from; k <= i; k++) c += cost(k);
    if (used + c > budget) break;
    used += c;
    for (let k = i; k >= from; k--) kept.push(turns[k]!);
    i = from;
  }
  const messages: ChatTurn[] = systemPrompt ? [{ role: "system", content: systemPrompt }] : [];
  for (let k = kept.length - 1; k >= 0; k--) messages.push(...kept[k]!);
  messages.push(...turns.at(-1)!);
  return { messages, input_tokens: used, omitted: i + 1 };
}

/**
 * A message's prompt turns, in the model's own shape: a reply becomes one assistant turn with the calls
 * the next message answers (a call left unanswered, as by a reply cut short, would be refused); a user
 * message becomes one tool turn per result that answers a call of the reply before it, then its text as
 * a user turn. A reply that failed before its first token has nothing to show the model. Reasoning is
 * never part of it.
 */
export function turnsOf(m: PromptMessage, prev: PromptMessage | undefined, next: PromptMessage | undefined): ChatTurn[] {
  if (m.role === "assistant") {
    const answered = new Set((next?.role === "user" ? next.tool_result : undefined)?.map((r) => r.tool_use_id));
    const calls: ChatToolCall[] = (m.tool_use ?? [])
      .filter((c) => answered.has(c.id))
      .map((c) => ({ id: c.id, name: c.name, input: typeof c.input === "string" ? c.input : JSON.stringify(c.input ?? {}) }));
    if (calls.length) return [{ role: "assistant", content: m.content, tool_calls: calls }];
    return m.content ? [{ role: "assistant", content: m.content }] : [];
  }
  const called = new Set((prev?.role === "assistant" ? prev.tool_use : undefined)?.map((c) => c.id));
  const out: ChatTurn[] = (m.tool_result ?? [])
    .filter((r) => called.has(r.tool_use_id))
    .map((r) => ({ role: "tool", tool_use_id: r.tool_use_id, content: r.content, ...(r.is_error && { is_error: true }) }));
  if (m.content || !m.tool_result?.length) out.push({ role: "user", content: m.content });
  return out;
}

/**
 * Counts the messages a next prompt built from `history` within `budget` would count, newest first, as
 * `buildPrompt` walks them (and one more: where it stops depends on the next message). Each count is
 * kept by message id (token-cache.ts), so that prompt finds them counted.
 */
export function countAhead(history: PromptMessage[], budget: number, count: TokenCounter): void {
  let used = PROMPT_OVERHEAD_TOKENS;
  for (let i = history.length - 1; i >= 0 && used <= budget; i--) {
    const m = history[i]!;
    for (const t of turnsOf(m, history[i - 1], history[i + 1])) used += countTurn(t, count, m.id || undefined);
  }
}

/**
 * Whether the whole history fits the budget whatever the tokenizer says. A byte-level BPE (o200k,
 * Qwen's) never makes more tokens than bytes, so when the byte count fits, counting is unnecessary: the
 * common case skips loading the tokenizer and counting altogether, in front of the first token.
 */
export function fitsWithoutCounting(
  systemPrompt: string | null,
  history: PromptMessage[],
  asked: string | Asked,
  budget: number,
): boolean {
  const ask: PromptMessage = typeof asked === "string" ? { id: "", role: "user", content: asked } : { id: "", role: "user", content: asked.content, ...(asked.tool_result && { tool_result: asked.tool_result }) };
  let bytes = PROMPT_OVERHEAD_TOKENS + bytesOf(ask);
  if (systemPrompt) bytes += Buffer.byteLength(systemPrompt, "utf8") + MESSAGE_OVERHEAD_TOKENS;
  for (const m of history) {
    bytes += bytesOf(m);
    if (bytes > budget) return false;
  }
  return bytes <= budget;
}

/** A message's bytes with a template overhead for each turn it may become: at least its tokens. */
function bytesOf(m: PromptMessage): number {
  let n = Buffer.byteLength(m.content, "utf8") + MESSAGE_OVERHEAD_TOKENS;
  for (const c of m.tool_use ?? [])
    n += Buffer.byteLength(c.name, "utf8") + Buffer.byteLength(typeof c.input === "string" ? c.input : JSON.stringify(c.input ?? {}), "utf8") + MESSAGE_OVERHEAD_TOKENS;
  for (const r of m.tool_result ?? []) n += Buffer.byteLength(r.content, "utf8") + MESSAGE_OVERHEAD_TOKENS;
  return n;
}

/** Tokens of a built prompt, with the chat template's overhead, as `buildPrompt` counts them. */
export function countPrompt(messages: ChatTurn[], count: TokenCounter): number {
  return messages.reduce((n, m) => n + countTurn(m, count), PROMPT_OVERHEAD_TOKENS);
}

/** One turn's tokens with its template overhead: its text, and the name and input of each tool call it carries. */
export function countTurn(m: ChatTurn, count: TokenCounter, messageId?: string): number {
  // A stored message never changes: its parts' counts are kept by its id (token-cache.ts).
  const counted = (key: string, text: string) => (messageId ? countById(count, `${messageId}${key}`, text) : count(text));
  let n = (m.role === "tool" ? counted(`:${m.tool_use_id}`, m.content) : counted("", m.content)) + MESSAGE_OVERHEAD_TOKENS;
  if (m.role === "assistant" && m.tool_calls) for (const c of m.tool_calls) n += count(c.name) + counted(`:${c.id}`, c.input) + MESSAGE_OVERHEAD_TOKENS;
  return n;
}
