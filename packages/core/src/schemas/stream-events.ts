import * as z from "zod";
import { ErrorType, Uuid } from "./common";

// The SSE payloads of the stream endpoint: Anthropic's Messages streaming sequence, plus
// `conversation_id` on the message, so clients written for that API read ours unchanged.
export const StopReason = z.enum(["end_turn", "max_tokens", "cancelled", "error"]);

export const MessageStartEvent = z.object({
  type: z.literal("message_start"),
  message: z.object({
    id: Uuid.describe("Id of the assistant message being generated"),
    type: z.literal("message"),
    role: z.literal("assistant"),
    conversation_id: Uuid,
    model: z.string(),
    content: z.array(z.unknown()).max(0),
    stop_reason: z.null(),
    stop_sequence: z.null(),
    usage: z.object({ input_tokens: z.number().int(), output_tokens: z.number().int() }),
  }),
});
// With reasoning, the thinking block is index 0 and the text block index 1; otherwise text is index 0.
const BlockIndex = z.number().int().min(0).max(1);
export const ContentBlockStartEvent = z.object({
  type: z.literal("content_block_start"),
  index: BlockIndex,
  content_block: z.union([
    z.object({ type: z.literal("text"), text: z.literal("") }),
    z.object({ type: z.literal("thinking"), thinking: z.literal("") }),
  ]),
});
export const ContentBlockDeltaEvent = z.object({
  type: z.literal("content_block_delta"),
  index: BlockIndex,
  delta: z.union([
    z.object({ type: z.literal("text_delta"), text: z.string() }),
    z.object({ type: z.literal("thinking_delta"), thinking: z.string() }),
  ]),
});
export const ContentBlockStopEvent = z.object({ type: z.literal("content_block_stop"), index: BlockIndex });
export const MessageDeltaEvent = z.object({
  type: z.literal("message_delta"),
  delta: z.object({ stop_reason: StopReason, stop_sequence: z.null() }),
  usage: z.object({ output_tokens: z.number().int() }),
});
export const MessageStopEvent = z.object({ type: z.literal("message_stop") });
export const PingEvent = z.object({ type: z.literal("ping") });
export const ErrorEvent = z.object({
  type: z.literal("error"),
  error: z.object({ type: ErrorType, message: z.string() }),
});

export const StreamEvents = {
  message_start: MessageStartEvent,
  content_block_start: ContentBlockStartEvent,
  content_block_delta: ContentBlockDeltaEvent,
  content_block_stop: ContentBlockStopEvent,
  message_delta: MessageDeltaEvent,
  message_stop: MessageStopEvent,
  ping: PingEvent,
  error: ErrorEvent,
} as const;
export type StreamEventName = keyof typeof StreamEvents;
export type StreamEventData<N extends StreamEventName> = z.infer<(typeof StreamEvents)[N]>;
