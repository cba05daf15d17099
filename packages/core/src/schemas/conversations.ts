import * as z from "zod";
import { REASONING_EFFORTS } from "../reasoning-efforts";
import { PageQuery, Timestamp, Uuid, noNul, pageOf } from "./common";
import { StoredToolResult, ToolUseBlock } from "./tools";

export const MessageRole = z.enum(["user", "assistant"]);
export const FinishReason = z.enum(["end_turn", "max_tokens", "tool_use", "cancelled", "error"]);
export type FinishReason = z.infer<typeof FinishReason>;

export const Message = z.object({
  id: Uuid,
  conversation_id: Uuid,
  role: MessageRole,
  content: z.string(),
  reasoning: z
    .string()
    .describe("The model's reasoning before its answer ('' when it did not reason); never put back into a prompt"),
  tool_use: z
    .array(ToolUseBlock)
    .optional()
    .describe('The tools a reply called, in order (absent when it called none); it then ends with finish_reason "tool_use"'),
  tool_result: z
    .array(StoredToolResult)
    .optional()
    .describe("The tool results a user message carried, in the order sent (absent when none); its content is then its text, '' when it had none"),
  model: z.string().nullable(),
  token_count: z.number().int().nullable().describe("Tokens in this message (output tokens for a reply)"),
  input_tokens: z.number().int().nullable().describe("Prompt tokens the model read to produce this reply"),
  finish_reason: FinishReason.nullable(),
  latency_ms: z.number().int().nullable(),
  ttft_ms: z.number().int().nullable().describe("Time to first token"),
  metadata: z.record(z.string(), z.unknown()),
  created_at: Timestamp,
  parent_id: Uuid.nullable().describe(
    "The message this one follows (null for the first). A regenerated reply is a sibling of the reply it replaces; an edited message a sibling of the one it edits",
  ),
});
export type Message = z.infer<typeof Message>;

/** A message of the current branch as listed, with its alternatives (branches). */
// An intersection, so the document says "a Message, and …" (allOf with a $ref) rather than a copy.
export const ListedMessage = z.intersection(
  Message,
  z.object({
    sibling_ids: z.array(Uuid).describe("Ids of this message and its alternatives (same parent), oldest first"),
    sibling_count: z.number().int().min(1).describe("How many alternatives there are, this one included"),
    sibling_index: z.number().int().min(0).describe("This message's place among sibling_ids (0-based)"),
  }),
);
export type ListedMessage = z.infer<typeof ListedMessage>;

export const Conversation = z.object({
  id: Uuid,
  title: z.string().nullable(),
  system_prompt: z.string().nullable(),
  model: z.string(),
  created_at: Timestamp,
  updated_at: Timestamp.describe("Last activity: creation, edit or message"),
});
export type Conversation = z.infer<typeof Conversation>;

export const ConversationWithMessages = Conversation.extend({
  messages: z.array(ListedMessage).describe("The current branch, root first"),
});
export type ConversationWithMessages = z.infer<typeof ConversationWithMessages>;

const Title = noNul(z.string().trim().min(1).max(200));
const SystemPrompt = noNul(z.string().max(32_000));

export const CreateConversationRequest = z.object({
  title: Title.optional(),
  system_prompt: SystemPrompt.optional(),
  model: noNul(z.string().min(1).max(100)).optional(),
});
export type CreateConversationRequest = z.infer<typeof CreateConversationRequest>;

export const UpdateConversationRequest = z
  .object({
    title: Title.nullable().optional(),
    system_prompt: SystemPrompt.nullable().optional(),
  })
  .refine((b) => b.title !== undefined || b.system_prompt !== undefined, {
    message: "give at least one of title, system_prompt",
  });
export type UpdateConversationRequest = z.infer<typeof UpdateConversationRequest>;

export const ConversationPage = pageOf(Conversation);
export const MessagePage = pageOf(ListedMessage);

export const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  database: z.enum(["ok", "unavailable"]),
});

export const ModelEntry = z.object({
  id: z.string(),
  context_window: z.number().int().nullable().describe("Tokens of prompt plus reply, from the provider's model list; null when unknown"),
  max_output_tokens: z
    .number()
    .int()
    .nullable()
    .describe("The most tokens one reply may have (Groq's `max_completion_tokens`), from the provider's model list; a larger `max_tokens` is a 422. null when unknown"),
  reasoning: z.boolean().describe("Whether replies stream a thinking block before the text"),
  reasoning_efforts: z.array(z.enum(REASONING_EFFORTS)).describe("Values `reasoning_effort` may take for this model"),
  default: z.boolean().describe("Used when a conversation names no model, or names one no longer allowed or served"),
});
export const UnavailableModel = z.object({
  id: z.string(),
  reason: z.string().describe('Why it cannot be named now, e.g. "not served by Groq"'),
});
export const ModelList = z.object({
  data: z.array(ModelEntry).describe("The allowed models the provider serves now, the one answering by default first"),
  unavailable: z
    .array(UnavailableModel)
    .describe("Allowed models the provider does not serve now (a send naming one is a 422; a conversation stored with one is answered by the default)"),
  source: z
    .enum(["groq", "offline", "configuration"])
    .describe(
      "Where the list comes from: Groq's model list; the offline model (no GROQ_API_KEY); or, while Groq's list could not be read yet, the configured models with unknown windows and caps",
    ),
  fetched_at: z.iso.datetime().nullable().describe("When Groq's list was read; null for the other sources"),
});
export type ModelList = z.infer<typeof ModelList>;

export const BranchRequest = z.object({
  message_id: Uuid.describe("Any message of the branch to make current; its most recent descendants are followed to the leaf"),
});
export type BranchRequest = z.infer<typeof BranchRequest>;

export const BranchResponse = z.object({
  leaf_id: Uuid.describe("The current branch's last message"),
});

// ---- search and export ----

export const ConversationListQuery = PageQuery.extend({
  q: z
    .string()
    .max(200)
    .optional()
    .describe(
      "Full-text search over titles and message text (words, \"a phrase\", OR, -word; case-insensitive, whole words, no stemming). Empty or only spaces: no filter",
    ),
});
export type ConversationListQuery = z.infer<typeof ConversationListQuery>;

export const ExportQuery = z.object({
  format: z.enum(["json", "markdown"]).default("json").describe("json: every message of every branch; markdown: the current branch as a document"),
});

export const ConversationExport = Conversation.extend({
  messages: z.array(Message).describe("Every stored message of every branch, oldest first"),
});
export type ConversationExport = z.infer<typeof ConversationExport>;
