// Anthropic Messages API: the request bodies this server takes and the bodies it answers, as zod
// schemas (the one source of their types and of their OpenAPI description). Unknown fields are
// dropped, as Anthropic's own clients may send fields this server has no use for.
import { ToolName, Tools } from "@conversation-api/core";
import * as z from "zod";

const TextBlock = z.object({ type: z.literal("text"), text: z.string() });
const Content = z.union([z.string(), z.array(TextBlock.describe("Only text blocks are taken")).min(1)]);

const ToolUseBlock = z.object({
  type: z.literal("tool_use"),
  id: z.string().min(1).max(256).describe("Names the call; the tool_result that answers it names it too"),
  name: ToolName,
  input: z.record(z.string(), z.unknown()).describe("The arguments the model wrote"),
});
const ToolResultBlock = z.object({
  type: z.literal("tool_result"),
  tool_use_id: z.string().min(1).max(256).describe("The tool_use of the assistant message before this one that this answers"),
  content: z.union([z.string(), z.array(TextBlock)]).optional().describe("The tool's output: a string or text blocks"),
  is_error: z.boolean().optional(),
});
// A reply's own blocks go back as they came: its thinking is not the model's to read again, so it is left out.
const ThinkingBlock = z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string().optional() });
const RedactedThinkingBlock = z.object({ type: z.literal("redacted_thinking"), data: z.string() });
const MessageBlock = z
  .discriminatedUnion("type", [TextBlock, ToolUseBlock, ToolResultBlock, ThinkingBlock, RedactedThinkingBlock])
  .describe("text; tool_use, thinking and redacted_thinking (assistant messages: thinking is left out of the prompt); tool_result (user messages)");

const Message = z
  .object({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(MessageBlock).min(1)]) })
  .superRefine((m, ctx) => {
    if (typeof m.content === "string") return;
    const wrong = m.role === "user" ? ["tool_use", "thinking", "redacted_thinking"] : ["tool_result"];
    m.content.forEach((b, i) => {
      if (wrong.includes(b.type)) ctx.addIssue({ code: "custom", path: ["content", i, "type"], message: `a ${m.role} message cannot hold a ${b.type} block` });
    });
  });

export const AnthropicToolChoice = z
  .discriminatedUnion("type", [
    z.object({ type: z.enum(["auto", "any", "none"]), disable_parallel_tool_use: z.boolean().optional() }),
    z.object({ type: z.literal("tool"), name: ToolName, disable_parallel_tool_use: z.boolean().optional() }),
  ])
  .describe('auto (the default), any (some tool must be called), none, or {type: "tool", name}; disable_parallel_tool_use is accepted and not applied');

export const AnthropicMessagesRequest = z.object({
  model: z.string().min(1).max(100).describe("One of GET /anthropic/v1/models"),
  max_tokens: z.number().int().min(1).max(32_768).describe("Most tokens the reply may have (required, as Anthropic requires it)"),
  messages: z
    .array(Message)
    .min(1)
    .max(1_000)
    .describe("The conversation so far, ending with the user's message (or the results of the tools the last reply called)"),
  system: Content.optional(),
  tools: Tools.optional().describe("Client tools, as Anthropic takes them: {name, description, input_schema}. A call streams as a tool_use block and ends the reply with stop_reason tool_use"),
  tool_choice: AnthropicToolChoice.optional(),
  temperature: z.number().min(0).max(1).optional(),
  top_p: z.number().min(0).max(1).optional(),
  stop_sequences: z.array(z.string().min(1)).max(4).optional(),
  metadata: z.object({ user_id: z.string().max(256).optional() }).optional(),
  stream: z.boolean().optional(),
  thinking: z
    .discriminatedUnion("type", [
      z.object({ type: z.literal("enabled"), budget_tokens: z.number().int().min(1_024) }),
      z.object({ type: z.literal("disabled") }),
    ])
    .optional()
    .describe("Mapped onto the model's reasoning_effort (docs/api.md, \"Anthropic Messages\")"),
});
export type AnthropicMessagesRequest = z.infer<typeof AnthropicMessagesRequest>;

export const AnthropicCountTokensRequest = AnthropicMessagesRequest.omit({ max_tokens: true, stream: true, metadata: true, temperature: true, top_p: true, stop_sequences: true });
export type AnthropicCountTokensRequest = z.infer<typeof AnthropicCountTokensRequest>;

export const AnthropicCountTokensResponse = z.object({ input_tokens: z.number().int() });

export const AnthropicStopReason = z.enum(["end_turn", "max_tokens", "tool_use"]);

export const AnthropicMessage = z.object({
  id: z.string(),
  type: z.literal("message"),
  role: z.literal("assistant"),
  model: z.string(),
  content: z.array(
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("thinking"), thinking: z.string(), signature: z.string() }),
      z.object({ type: z.literal("text"), text: z.string() }),
      ToolUseBlock,
    ]),
  ),
  stop_reason: AnthropicStopReason,
  stop_sequence: z.null(),
  usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
});

export const AnthropicModelList = z.object({
  data: z.array(z.object({ type: z.literal("model"), id: z.string(), display_name: z.string(), created_at: z.string() })),
  has_more: z.boolean(),
  first_id: z.string().nullable(),
  last_id: z.string().nullable(),
});

export const AnthropicErrorType = z.enum([
  "invalid_request_error",
  "authentication_error",
  "permission_error",
  "not_found_error",
  "request_too_large",
  "rate_limit_error",
  "api_error",
  "overloaded_error",
  "timeout_error",
]);

export const AnthropicError = z.object({
  type: z.literal("error"),
  error: z.object({ type: AnthropicErrorType, message: z.string() }),
});

/** The stream's events, for the API document (the sequence is our stream's: docs/api.md). */
export const AnthropicStreamEvent = z
  .object({ type: z.string() })
  .loose()
  .describe("message_start, content_block_start/delta/stop, message_delta, message_stop, ping or error, as Anthropic streams them");

/** The version header every Anthropic client sends. */
export const AnthropicVersionHeader = z.object({
  "anthropic-version": z.string().max(64).optional().describe("Accepted and not checked"),
});

/** Headers a Messages call reads. */
export const AnthropicHeaders = AnthropicVersionHeader.extend({
  "x-conversation-id": z
    .string()
    .max(64)
    .optional()
    .describe("Binds the call to a stored conversation: the last user message is sent in it and the reply stored (docs/api.md)"),
});
