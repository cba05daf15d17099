// An OpenAI Chat Completions request as our call: system and developer messages make the system prompt,
// the rest the conversation; max_completion_tokens wins over max_tokens; `stop` as a list. Function
// tools are our tools (`parameters` as input_schema), an assistant message's tool_calls its tool calls,
// a `tool` message a tool turn; tool_choice "required" is our "any".
import type { CallRequest, CallTurn, ToolChoice, ToolDefinition } from "@conversation-api/core";
import type { OpenAIChatRequest } from "./schemas";

type Content = string | { text: string }[];
const textOf = (c: Content | null | undefined) => (c == null ? "" : typeof c === "string" ? c : c.map((p) => p.text).join("\n\n"));

/** A function without parameters takes none: the empty object's schema. */
const NO_PARAMETERS = { type: "object", properties: {} };

const toolOf = ({ function: f }: NonNullable<OpenAIChatRequest["tools"]>[number]): ToolDefinition => ({
  name: f.name,
  ...(f.description !== undefined && { description: f.description }),
  input_schema: f.parameters ?? NO_PARAMETERS,
});

const choiceOf = (c: OpenAIChatRequest["tool_choice"]): ToolChoice | undefined =>
  c === undefined ? undefined : c === "required" ? "any" : typeof c === "string" ? c : { type: "tool", name: c.function.name };

function turnOf(m: OpenAIChatRequest["messages"][number]): CallTurn | null {
  switch (m.role) {
    case "system":
    case "developer":
      return null;
    case "user":
      return { role: "user", content: textOf(m.content) };
    case "assistant": {
      const calls = (m.tool_calls ?? []).map((c) => ({ id: c.id, name: c.function.name, input: c.function.arguments }));
      return { role: "assistant", content: textOf(m.content), ...(calls.length && { tool_calls: calls }) };
    }
    case "tool":
      return { role: "tool", tool_use_id: m.tool_call_id, content: textOf(m.content) };
  }
}

export function openaiCall(body: OpenAIChatRequest, at: Pick<CallRequest, "receivedAt" | "remainingMs">): CallRequest {
  const system = body.messages.flatMap((m) => (m.role === "system" || m.role === "developer" ? [textOf(m.content)] : []));
  const messages = body.messages.map(turnOf).filter((t) => t !== null);
  return {
    model: body.model,
    system: system.length ? system.join("\n\n") : null,
    messages,
    tools: body.tools?.map(toolOf),
    tool_choice: choiceOf(body.tool_choice),
    max_tokens: body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature,
    top_p: body.top_p,
    stop: typeof body.stop === "string" ? [body.stop] : body.stop,
    reasoning_effort: body.reasoning_effort,
    ...at,
  };
}
