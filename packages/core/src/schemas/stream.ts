// The streaming routes' inputs (send, regenerate, resume, cancel), apart from the other conversation
// schemas: core has no side effects ("sideEffects": false), so a function bundles only the schema
// modules it uses, and a stream function's cold start builds only these (zod builds a schema when its
// module loads).
import * as z from "zod";
import { REASONING_EFFORTS } from "../reasoning-efforts";
import { Uuid, noNul } from "./common";
import { ContentBlocks, ToolChoice, Tools } from "./tools";

export const StreamRequest = z.object({
  content: z
    .union([noNul(z.string().min(1).max(32_000)), ContentBlocks])
    .describe(
      'The message: a string, or content blocks in Anthropic\'s shape: `{"type": "text", "text"}` and `{"type": "tool_result", "tool_use_id", "content", "is_error"?}`. After a reply that ended with stop_reason "tool_use", the next message must answer every call it made with a tool_result (422 otherwise), and may add text',
    ),
  max_tokens: z
    .number()
    .int()
    .min(1)
    .max(32_768)
    .optional()
    .describe(
      "Most tokens the reply may have: at most the model's max_output_tokens in GET /api/v1/models (422 otherwise). Left out: the model's cap, within the server's RESERVE_OUTPUT_TOKENS",
    ),
  temperature: z.number().min(0).max(2).optional(),
  model: noNul(z.string().min(1).max(100)).optional(),
  reasoning_effort: z
    .enum(REASONING_EFFORTS)
    .optional()
    .describe("How hard a reasoning model thinks; only values the model lists in GET /api/v1/models (422 otherwise)"),
  tools: Tools.optional(),
  tool_choice: ToolChoice.optional(),
  parent_id: Uuid.nullable()
    .optional()
    .describe(
      "Start a branch: the new message follows this one (null: a new first message) instead of the current branch's last. To edit a message and resend it, give the edited message's parent_id",
    ),
});
export type StreamRequest = z.infer<typeof StreamRequest>;

export const StreamHeaders = z.object({
  "idempotency-key": z
    .string()
    .regex(/^[\x21-\x7e]{1,255}$/, "1 to 255 visible ASCII characters")
    .optional()
    .describe(
      "Makes a retry safe: a repeat with the same key reuses the stored user message, and once the reply is stored answers 409 with `error.reply_id` naming it",
    ),
});

export const MessageParams = z.object({ id: Uuid, message_id: Uuid });

export const ResumeQuery = z.object({
  last_event_id: z.string().max(64).optional().describe("The id of the last event received (or send the Last-Event-ID header)"),
});

export const ResumeHeaders = z.object({
  "last-event-id": z.string().max(64).optional().describe("What EventSource sends on reconnect: the id of the last event received"),
});

export const CancelResponse = z.object({
  id: Uuid,
  status: z.literal("cancelling").describe("The producer stops within about a second and stores the reply as cancelled"),
});

/** POST …/messages/{message_id}/regenerate: the send's options, without content (the user message is answered again). */
export const RegenerateRequest = StreamRequest.omit({ content: true, parent_id: true });
export type RegenerateRequest = z.infer<typeof RegenerateRequest>;
