// OpenAI Chat Completions: the request body this server takes and the bodies it answers, as zod schemas
// (the one source of their types and of their OpenAPI description). Unknown fields are dropped.
import { MAX_TOOLS, REASONING_EFFORTS, ToolName, inputSchemaProblem } from "@conversation-api/core";
import * as z from "zod";

const TextPart = z.object({ type: z.literal("text").describe("Only text parts are taken"), text: z.string() });
const Content = z.union([z.string(), z.array(TextPart).min(1)]);
const Tokens = z.number().int().min(1).max(32_768);

const ToolCall = z.object({
  id: z.string().min(1).max(256),
  type: z.literal("function"),
  function: z.object({ name: ToolName, arguments: z.string().describe("The arguments as JSON text") }),
});

const Message = z.discriminatedUnion("role", [
  z.object({ role: z.enum(["system", "developer", "user"]), content: Content }),
  z.object({
    role: z.literal("assistant"),
    content: z.union([Content, z.null()]).optional().describe("May be null or absent when the message has tool_calls"),
    tool_calls: z.array(ToolCall).max(MAX_TOOLS).optional(),
  }),
  z.object({
    role: z.literal("tool"),
    tool_call_id: z.string().min(1).max(256).describe("The tool call of the assistant message before it that this answers"),
    content: Content,
  }),
]);

const Tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: ToolName,
    description: z.string().max(10_000).optional(),
    parameters: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('A JSON Schema object describing the arguments: {"type": "object", …}; absent: no arguments'),
    strict: z.boolean().nullable().optional().describe("Accepted and not applied"),
  }),
});

const Tools = z
  .array(Tool)
  .max(MAX_TOOLS, `at most ${MAX_TOOLS} tools`)
  .superRefine((tools, ctx) => {
    const seen = new Set<string>();
    tools.forEach((t, i) => {
      const { name, parameters } = t.function;
      const problem = parameters === undefined ? null : inputSchemaProblem(parameters);
      if (problem) ctx.addIssue({ code: "custom", path: [i, "function", "parameters"], message: `tool "${name}": parameters ${problem}` });
      if (seen.has(name)) ctx.addIssue({ code: "custom", path: [i, "function", "name"], message: `tool "${name}" is defined twice; names must be unique` });
      seen.add(name);
    });
  });

const ToolChoice = z
  .union([z.enum(["auto", "none", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: ToolName }) })])
  .describe('"auto" (the default), "none", "required" (some tool must be called) or {type: "function", function: {name}}');

export const OpenAIChatRequest = z.object({
  model: z.string().min(1).max(100).describe("One of GET /openai/v1/models"),
  messages: z
    .array(Message)
    .min(1)
    .max(1_000)
    .describe(
      "The conversation so far, ending with the user's message (or the tool messages answering the last reply's tool_calls); system (and developer) messages make the system prompt",
    ),
  tools: Tools.optional().describe('Client tools the model may call: {type: "function", function: {name, description, parameters}}'),
  tool_choice: ToolChoice.optional(),
  parallel_tool_calls: z.boolean().optional().describe("Accepted and not applied"),
  max_tokens: Tokens.optional(),
  max_completion_tokens: Tokens.optional().describe("Wins over max_tokens when both are given"),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).optional(),
  user: z.string().max(256).optional(),
  reasoning_effort: z.enum(REASONING_EFFORTS).optional().describe("Only values the model lists (GET /api/v1/models)"),
  n: z.number().int().min(1).max(1, "only n = 1 is supported: one choice per call").optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
});
export type OpenAIChatRequest = z.infer<typeof OpenAIChatRequest>;

const Usage = z.object({ prompt_tokens: z.number().int(), completion_tokens: z.number().int(), total_tokens: z.number().int() });

export const OpenAIChatCompletion = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({
        role: z.literal("assistant"),
        content: z.string().nullable().describe("null when the reply only calls tools"),
        reasoning: z.string().optional().describe("A reasoning model's reasoning, as Groq sends it"),
        tool_calls: z.array(ToolCall).optional(),
      }),
      finish_reason: z.enum(["stop", "length", "tool_calls"]),
      logprobs: z.null(),
    }),
  ),
  usage: Usage,
});

export const OpenAIChatChunk = z
  .object({ object: z.literal("chat.completion.chunk") })
  .loose()
  .describe("chat.completion.chunk objects as `data:` lines (reasoning in `delta.reasoning`, tool calls in `delta.tool_calls`: index, id, type and function.name first, then function.arguments pieces), a last chunk with `usage` and no choices when stream_options.include_usage, then `data: [DONE]`");

export const OpenAIModelList = z.object({
  object: z.literal("list"),
  data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() })),
});

export const OpenAIError = z.object({
  error: z.object({ message: z.string(), type: z.string(), param: z.string().nullable(), code: z.string().nullable() }),
});

export const OpenAIHeaders = z.object({
  "x-conversation-id": z
    .string()
    .max(64)
    .optional()
    .describe("Binds the call to a stored conversation: the last user message is sent in it and the reply stored (docs/api.md)"),
});
