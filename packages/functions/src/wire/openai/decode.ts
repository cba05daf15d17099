// An OpenAI Chat Completions request as our call: system and developer messages make the system prompt,
// the rest the conversation; max_completion_tokens wins over max_tokens; `stop` as a list.
import type { CallRequest } from "@conversation-api/core";
import type { OpenAIChatRequest } from "./schemas";

type Content = OpenAIChatRequest["messages"][number]["content"];
const textOf = (c: Content) => (typeof c === "string" ? c : c.map((p) => p.text).join("\n\n"));

export function openaiCall(body: OpenAIChatRequest, at: Pick<CallRequest, "receivedAt" | "remainingMs">): CallRequest {
  const system = body.messages.filter((m) => m.role === "system" || m.role === "developer").map((m) => textOf(m.content));
  const messages: CallRequest["messages"] = [];
  for (const m of body.messages) if (m.role === "user" || m.role === "assistant") messages.push({ role: m.role, content: textOf(m.content) });
  return {
    model: body.model,
    system: system.length ? system.join("\n\n") : null,
    messages,
    max_tokens: body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature,
    top_p: body.top_p,
    stop: typeof body.stop === "string" ? [body.stop] : body.stop,
    reasoning_effort: body.reasoning_effort,
    ...at,
  };
}
