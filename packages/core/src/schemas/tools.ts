// Client tools on a send: the definitions the model may call and how it may choose among them, in
// Anthropic's Messages shape. Each definition is checked here, naming the tool, so that a bad one is a
// 422 before anything is stored rather than the provider's 400 once the stream has begun.
import * as z from "zod";

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
