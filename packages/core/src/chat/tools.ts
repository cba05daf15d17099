// The checks and counts a reply's client tools need, for a send (plan.ts) and a stateless call (call.ts)
// alike: the provider would refuse a bad tool_choice once the stream has begun, and the tool definitions
// reach the model as part of its prompt.
import { AppError } from "../errors";
import type { ToolChoice, ToolDefinition } from "../schemas";
import type { TokenCounter } from "./types";

/** Where each request format carries the choice and the tool it names, for the 422's field paths. */
export interface ToolChoicePaths {
  choice: string;
  name: string;
}

/** A choice that names a tool must name one of the request's tools, and "any" needs at least one (422). */
export function checkToolChoice(tools: ToolDefinition[] | undefined, choice: ToolChoice | undefined, paths: ToolChoicePaths): void {
  if (choice === undefined || choice === "auto" || choice === "none") return;
  const names = (tools ?? []).map((t) => t.name);
  if (choice === "any" && names.length === 0)
    throw new AppError("validation_error", "tool_choice asks for a tool call but no tools are given", {
      fields: [{ path: paths.choice, message: 'needs at least one tool in "tools"' }],
    });
  if (typeof choice === "object" && !names.includes(choice.name))
    throw new AppError("validation_error", `tool_choice names tool "${choice.name}", which is not in tools${names.length ? ` (${names.join(", ")})` : ""}`, {
      fields: [{ path: paths.name, message: names.length ? `must be one of: ${names.join(", ")}` : 'needs the tool in "tools"' }],
    });
}

/** The tool definitions as the prompt carries them, for counting (empty: no tools). */
export function toolsPromptText(tools: ToolDefinition[] | undefined): string {
  return tools?.length ? JSON.stringify(tools) : "";
}

/** The prompt tokens the tool definitions take (0 without tools). */
export function countToolTokens(toolsText: string, count: TokenCounter): number {
  return toolsText ? count(toolsText) : 0;
}
