// An Anthropic Messages request as our call: the text of its blocks, its tool_use and tool_result
// blocks as the prompt's tool calls and tool turns, `stop_sequences` as `stop`, and
// `thinking` as the model's reasoning_effort (docs/api.md, "Anthropic Messages"):
//   disabled → "none" where the model takes it; enabled with budget_tokens < 4096 → "low",
//   < 16384 → "medium", else "high"; a value the model does not list is left out (its default applies).
import type { CallRequest, CallTurn, ReasoningEffort } from "@conversation-api/core";
import type { AnthropicCountTokensRequest, AnthropicMessagesRequest } from "./schemas";

type Content = string | { text: string }[] | undefined;

export const textOf = (c: Content): string => (c === undefined ? "" : typeof c === "string" ? c : c.map((b) => b.text).join("\n\n"));

export function effortFor(thinking: AnthropicMessagesRequest["thinking"], efforts: readonly ReasoningEffort[]): ReasoningEffort | undefined {
  if (!thinking) return undefined;
  const wanted: ReasoningEffort =
    thinking.type === "disabled" ? "none" : thinking.budget_tokens < 4_096 ? "low" : thinking.budget_tokens < 16_384 ? "medium" : "high";
  return efforts.includes(wanted) ? wanted : undefined;
}

/**
 * The prompt of a request: its system text (null when empty), its messages as prompt turns, and its
 * tools. An assistant message's tool_use blocks become its tool calls (their input as JSON text); a
 * user message's tool_result blocks become tool turns, before the turn of its text (when it has any).
 */
export function promptOf(body: AnthropicCountTokensRequest): Pick<CallRequest, "system" | "messages" | "tools" | "tool_choice"> {
  const system = textOf(body.system);
  return {
    system: system === "" ? null : system,
    messages: body.messages.flatMap(turnsOf),
    tools: body.tools,
    tool_choice: body.tool_choice && (body.tool_choice.type === "tool" ? { type: "tool", name: body.tool_choice.name } : body.tool_choice.type),
  };
}

type Message = AnthropicCountTokensRequest["messages"][number];

function turnsOf(m: Message): CallTurn[] {
  if (typeof m.content === "string") return [{ role: m.role, content: m.content }];
  const text = m.content.flatMap((b) => (b.type === "text" ? [b.text] : [])).join("\n\n");
  if (m.role === "assistant") {
    const calls = m.content.flatMap((b) => (b.type === "tool_use" ? [{ id: b.id, name: b.name, input: JSON.stringify(b.input) }] : []));
    return [{ role: "assistant", content: text, ...(calls.length && { tool_calls: calls }) }];
  }
  const turns: CallTurn[] = m.content.flatMap((b) =>
    b.type === "tool_result"
      ? [{ role: "tool" as const, tool_use_id: b.tool_use_id, content: b.content === undefined ? "" : textOf(b.content), ...(b.is_error && { is_error: true }) }]
      : [],
  );
  if (turns.length === 0 || text !== "") turns.push({ role: "user", content: text });
  return turns;
}
