// Client tools in Groq's (OpenAI's) request shape: each definition becomes a `function` tool whose
// `parameters` is the input schema, and Anthropic's choices map onto OpenAI's ("any" is "required").
import type { CompletionRequest, ToolChoice } from "@conversation-api/core";

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
