// Client tools on a send: the definitions the model may call and how it may choose among them, in
// Anthropic's Messages shape. Each definition is checked here, naming the tool, so that a bad one is a
// 422 before anything is stored rather than the provider's 400 once the stream has begun.
import * as z from "zod";
import { noNul } from "./common";

/** Anthropic's and OpenAI's rule for a tool name (Groq follows OpenAI). */
export const ToolName = z
  .string()
  .regex(/^[a-zA-Z0-9_-]{1,64}$/, "1 to 64 letters, digits, '_' or '-'")
  .describe("The name the model calls the tool by");

export const MAX_TOOLS = 128;

export const ToolDefinition = z.object({
  name: ToolName,
  description: z.string().max(10_000).optional(),
  input_schema: z
    .record(z.string(), z.unknown())
    .describe('A JSON Schema object describing the tool\'s input: `{"type": "object", "properties": {…}, "required": […]}`'),
});
export type ToolDefinition = z.infer<typeof ToolDefinition>;

/**
 * Why `schema` is not the JSON Schema of an object, or null when it is: `type` must be "object",
 * `properties` (when given) an object of schemas, `required` (when given) a list of names.
 */
export function inputSchemaProblem(schema: Record<string, unknown>): string | null {
  if (schema.type !== "object") return 'must be a JSON Schema object with "type": "object"';
  const { properties, required } = schema;
  if (properties !== undefined) {
    if (!isObject(properties)) return '"properties" must be an object';
    const bad = Object.entries(properties).find(([, v]) => !isObject(v) && typeof v !== "boolean");
    if (bad) return `"properties.${bad[0]}" must be a JSON Schema (an object)`;
  }
  if (required !== undefined && !(Array.isArray(required) && required.every((r) => typeof r === "string")))
    return '"required" must be a list of property names';
  return null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export const Tools = z
  .array(ToolDefinition)
  .max(MAX_TOOLS, `at most ${MAX_TOOLS} tools`)
  .superRefine((tools, ctx) => {
    const seen = new Set<string>();
    tools.forEach((tool, i) => {
      const problem = inputSchemaProblem(tool.input_schema);
      if (problem) ctx.addIssue({ code: "custom", path: [i, "input_schema"], message: `tool "${tool.name}": input_schema ${problem}` });
      if (seen.has(tool.name)) ctx.addIssue({ code: "custom", path: [i, "name"], message: `tool "${tool.name}" is defined twice; names must be unique` });
      seen.add(tool.name);
    });
  })
  .describe(`Tools the model may call (at most ${MAX_TOOLS}, unique names). A call streams as a \`tool_use\` block and ends the reply with stop_reason "tool_use"`);

export const ToolChoice = z
  .union([
    z.enum(["auto", "any", "none"]),
    z.object({ type: z.literal("tool"), name: ToolName }),
  ])
  .describe('"auto" (the default): the model decides; "any": it must call one of the tools; "none": it calls none; {type: "tool", name}: it must call that tool');
export type ToolChoice = z.infer<typeof ToolChoice>;

export const ToolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().describe("Names the call; a tool_result answers it by this id"),
  name: z.string(),
  input: z.unknown().describe("The arguments the model wrote, parsed; the text as written when it is not JSON (a reply cut short)"),
});
export type ToolUseBlock = z.infer<typeof ToolUseBlock>;

// ---- content blocks of a send (Anthropic's Messages shape) ----

/** The longest text of one tool result, and of all of one message's results together. */
export const MAX_TOOL_RESULT_CHARS = 100_000;
export const MAX_TOOL_RESULTS_CHARS = 1_000_000;

export const TextBlock = z.object({ type: z.literal("text"), text: noNul(z.string().max(32_000)) });

export const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: noNul(z.string().min(1).max(256)).describe("The id of the tool_use block this answers, one of the calls of the reply this message follows"),
  content: z
    .union([noNul(z.string().max(MAX_TOOL_RESULT_CHARS)), z.array(TextBlock).max(100)])
    .describe("What the tool returned: a string, or text blocks (joined into one string when stored)"),
  is_error: z.boolean().optional().describe("The tool failed; content says how"),
});
export type ToolResultBlock = z.infer<typeof ToolResultBlock>;

/** A tool result as stored, listed and exported with the user message that carried it. */
export const StoredToolResult = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string(),
  content: z.string(),
  is_error: z.boolean(),
});
export type StoredToolResult = z.infer<typeof StoredToolResult>;

/** A send's content as blocks: its text and the results of the calls the previous reply made. */
export const ContentBlocks = z
  .array(z.discriminatedUnion("type", [TextBlock, ToolResultBlock]))
  .min(1)
  .max(MAX_TOOLS + 100)
  .superRefine((blocks, ctx) => {
    const seen = new Set<string>();
    let results = 0;
    const text = blocksText(blocks).length;
    blocks.forEach((b, i) => {
      if (b.type === "text") return;
      results += toolResultText(b).length;
      if (seen.has(b.tool_use_id))
        ctx.addIssue({ code: "custom", path: [i, "tool_use_id"], message: `tool_use_id "${b.tool_use_id}" is answered twice` });
      seen.add(b.tool_use_id);
    });
    if (text > 32_000) ctx.addIssue({ code: "custom", message: "the text blocks hold at most 32000 characters together (joined by a blank line)" });
    if (results > MAX_TOOL_RESULTS_CHARS) ctx.addIssue({ code: "custom", message: `the tool results hold at most ${MAX_TOOL_RESULTS_CHARS} characters together` });
    if (text === 0 && seen.size === 0) ctx.addIssue({ code: "custom", message: "needs some text or a tool_result" });
  });
export type ContentBlocks = z.infer<typeof ContentBlocks>;

/** A result's content as one string: text blocks joined as Anthropic's API reads them. */
export const toolResultText = (b: ToolResultBlock): string => (typeof b.content === "string" ? b.content : b.content.map((t) => t.text).join("\n"));

/** The text blocks of a send as the one text stored with the message: joined by a blank line. */
export const blocksText = (blocks: readonly ({ type: "text"; text: string } | { type: "tool_result" })[]): string =>
  blocks
    .filter((b): b is { type: "text"; text: string } => b.type === "text" && b.text !== "")
    .map((b) => b.text)
    .join("\n\n");
