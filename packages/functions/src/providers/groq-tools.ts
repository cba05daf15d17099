// Client tools in Groq's (OpenAI's) shapes: each definition becomes a `function` tool whose
// `parameters` is the input schema, Anthropic's choices map onto OpenAI's ("any" is "required"), and
// the streamed `delta.tool_calls` fragments become the provider port's tool events.
import { randomUUID } from "node:crypto";
import { AppError, type ChatTurn, type CompletionEvent, type CompletionRequest, type ToolChoice } from "@conversation-api/core";

type GroqToolChoice = "auto" | "required" | "none" | { type: "function"; function: { name: string } };

function groqToolChoice(choice: ToolChoice): GroqToolChoice {
  if (choice === "any") return "required";
  if (typeof choice === "string") return choice;
  return { type: "function", function: { name: choice.name } };
}

/** The request fields that offer the tools; none when there are none to offer. */
export function groqToolParams(req: Pick<CompletionRequest, "tools" | "tool_choice">) {
  if (!req.tools?.length) return {};
  return {
    tools: req.tools.map((t) => ({
      type: "function" as const,
      function: { name: t.name, ...(t.description !== undefined ? { description: t.description } : {}), parameters: t.input_schema },
    })),
    ...(req.tool_choice !== undefined ? { tool_choice: groqToolChoice(req.tool_choice) } : {}),
  };
}

type GroqMessage =
  | { role: "system" | "user"; content: string }
  | { role: "assistant"; content: string | null; tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[] }
  | { role: "tool"; tool_call_id: string; content: string };

/**
 * The prompt in Groq's shape: an assistant turn's calls as `tool_calls`, a result as a `tool` message
 * (an error result says so in its text, as Groq has no flag for it). A prompt without tools is passed
 * as it is, so the common send builds nothing new.
 */
export function groqMessages(turns: ChatTurn[]): GroqMessage[] {
  if (!turns.some((t) => t.role === "tool" || (t.role === "assistant" && t.tool_calls?.length))) return turns as GroqMessage[];
  return turns.map((t): GroqMessage => {
    if (t.role === "tool") return { role: "tool", tool_call_id: t.tool_use_id, content: t.is_error ? `Error: ${t.content}` : t.content };
    if (t.role === "assistant" && t.tool_calls?.length)
      return {
        role: "assistant",
        content: t.content || null,
        tool_calls: t.tool_calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.input || "{}" } })),
      };
    return { role: t.role, content: t.content };
  });
}

/** One `delta.tool_calls` entry as it streams: the first piece of a call has its id and name. */
export interface ToolCallFragment {
  index: number;
  id?: string | undefined;
  function?: { name?: string | undefined; arguments?: string | undefined } | undefined;
}

type ToolEvent = Extract<CompletionEvent, { type: "tool_use" | "tool_input" }>;

/**
 * Turns the fragments into one call after another: a new `index` opens a call, later pieces of it
 * append to its input. Groq streams parallel calls in index order; a piece of a call that is no longer
 * the latest would have to be re-ordered after the fact, so it is refused as a broken stream.
 */
export class ToolCallReader {
  private current = -1;

  *read(fragments: ToolCallFragment[]): Generator<ToolEvent> {
    for (const f of fragments) {
      if (f.index > this.current) {
        this.current = f.index;
        const name = f.function?.name;
        if (!name) throw new AppError("api_error", "The model started a tool call without its name", { status: 502, expose: true });
        yield { type: "tool_use", id: f.id || `call_${randomUUID().replaceAll("-", "")}`, name };
      } else if (f.index < this.current) {
        throw new AppError("api_error", "The model interleaved its tool calls", { status: 502, expose: true });
      }
      const args = f.function?.arguments;
      if (args) yield { type: "tool_input", text: args };
    }
  }
}
