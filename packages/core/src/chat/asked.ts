// What a send asks: its text and the tool results it carries, as they are stored with the user message
// (schemas/tools.ts says how blocks become that text). A string content is text alone.
import type { Message, StoredToolResult, StreamRequest } from "../schemas";
import { blocksText, toolResultText } from "../schemas";

export interface Asked {
  content: string;
  /** null: the message answers no tool call. */
  tool_result: StoredToolResult[] | null;
}

export function askedOf(content: StreamRequest["content"]): Asked {
  if (typeof content === "string") return { content, tool_result: null };
  const results: StoredToolResult[] = [];
  for (const b of content)
    if (b.type === "tool_result") results.push({ type: "tool_result", tool_use_id: b.tool_use_id, content: toolResultText(b), is_error: b.is_error ?? false });
  return { content: blocksText(content), tool_result: results.length ? results : null };
}

/** A stored user message's ask. */
export const askedOfMessage = (m: Pick<Message, "content" | "tool_result">): Asked => ({ content: m.content, tool_result: m.tool_result?.length ? m.tool_result : null });

/** Whether two asks are the same message (an Idempotency-Key's retry must repeat it exactly). */
export function sameAsk(a: Asked, b: Asked): boolean {
  const x = a.tool_result ?? [];
  const y = b.tool_result ?? [];
  return (
    a.content === b.content &&
    x.length === y.length &&
    x.every((r, i) => r.tool_use_id === y[i]!.tool_use_id && r.content === y[i]!.content && r.is_error === y[i]!.is_error)
  );
}

/**
 * Whether the ask answers the calls of the reply it follows as begin_reply requires (every result names
 * one of its calls; after a reply that stopped for its tools, every call answered). begin_reply decides;
 * this only tells admission whether calling the model before its answer would be a call to throw away.
 */
export function answersCalls(leaf: Message | undefined, asked: Asked): boolean {
  const calls = new Set(leaf?.role === "assistant" ? leaf.tool_use?.map((c) => c.id) : undefined);
  const given = new Set(asked.tool_result?.map((r) => r.tool_use_id));
  for (const id of given) if (!calls.has(id)) return false;
  if (leaf?.role === "assistant" && leaf.finish_reason === "tool_use") for (const id of calls) if (!given.has(id)) return false;
  return true;
}
