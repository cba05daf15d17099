// OpenAI Chat Completions: the request body this server takes and the bodies it answers, as zod schemas
// (the one source of their types and of their OpenAPI description). Unknown fields are dropped.
import { REASONING_EFFORTS } from "@conversation-api/core";
import * as z from "zod";

const TextPart = z.object({ type: z.literal("text").describe("Only text parts are taken"), text: z.string() });
const Content = z.union([z.string(), z.array(TextPart).min(1)]);
const Tokens = z.number().int().min(1).max(32_768);

export const OpenAIChatRequest = z.object({
  model: z.string().min(1).max(100).describe("One of GET /openai/v1/models"),
  messages: z
    .array(z.object({ role: z.enum(["system", "developer", "user", "assistant"]), content: Content }))
    .min(1)
    .max(1_000)
    .describe("The conversation so far, ending with the user's message; system (and developer) messages make the system prompt"),
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
      message: z.object({ role: z.literal("assistant"), content: z.string(), reasoning: z.string().optional().describe("A reasoning model's reasoning, as Groq sends it") }),
      finish_reason: z.enum(["stop", "length"]),
      logprobs: z.null(),
    }),
  ),
  usage: Usage,
});

export const OpenAIChatChunk = z
  .object({ object: z.literal("chat.completion.chunk") })
  .loose()
  .describe("chat.completion.chunk objects as `data:` lines (reasoning in `delta.reasoning`), a last chunk with `usage` and no choices when stream_options.include_usage, then `data: [DONE]`");

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
