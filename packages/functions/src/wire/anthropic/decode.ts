// An Anthropic Messages request as our call: the text of its blocks, `stop_sequences` as `stop`, and
// `thinking` as the model's reasoning_effort (docs/api.md, "Anthropic Messages"):
//   disabled → "none" where the model takes it; enabled with budget_tokens < 4096 → "low",
//   < 16384 → "medium", else "high"; a value the model does not list is left out (its default applies).
import type { ReasoningEffort } from "@conversation-api/core";
import type { AnthropicCountTokensRequest, AnthropicMessagesRequest } from "./schemas";

type Content = AnthropicMessagesRequest["system"];

export const textOf = (c: Content): string => (c === undefined ? "" : typeof c === "string" ? c : c.map((b) => b.text).join("\n\n"));

export function effortFor(thinking: AnthropicMessagesRequest["thinking"], efforts: readonly ReasoningEffort[]): ReasoningEffort | undefined {
  if (!thinking) return undefined;
  const wanted: ReasoningEffort =
    thinking.type === "disabled" ? "none" : thinking.budget_tokens < 4_096 ? "low" : thinking.budget_tokens < 16_384 ? "medium" : "high";
  return efforts.includes(wanted) ? wanted : undefined;
}

/** The prompt of a request: its system text (null when empty) and its messages as text. */
export function promptOf(body: AnthropicCountTokensRequest) {
  const system = textOf(body.system);
  return {
    system: system === "" ? null : system,
    messages: body.messages.map((m) => ({ role: m.role, content: textOf(m.content) })),
  };
}
