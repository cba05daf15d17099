import * as z from "zod";
import { ErrorType, Uuid } from "./common";
import { CodeExecutionToolResultBlock, ServerToolUseBlock, WebSearchToolResultBlock } from "./server-tools";

// The SSE payloads of the stream endpoint: Anthropic's Messages streaming sequence, plus
// `conversation_id` on the message, so clients written for that API read ours unchanged.
export const StopReason = z.enum(["end_turn", "max_tokens", "tool_use", "cancelled", "error"]);

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
// A reply's blocks, in order: a reasoning model's thinking, then the server tools it used (server-tools.ts), then the text, then the tools it calls
// (one block each). A reply without tool calls always has its text block, a reply with some only when
// it wrote text before them.
const BlockIndex = z.number().int().min(0);
export const ContentBlockStartEvent = z.object({
  type: z.literal("content_block_start"),
  index: BlockIndex,
  content_block: z.union([
    z.object({ type: z.literal("text"), text: z.literal("") }),
    z.object({ type: z.literal("thinking"), thinking: z.literal("") }),
    z.object({ type: z.literal("tool_use"), id: z.string(), name: z.string(), input: z.object({}).strict() }),
    // A server tool's use and its result arrive whole: each block's start carries all of it, its stop follows.
    ServerToolUseBlock,
    WebSearchToolResultBlock,
    CodeExecutionToolResultBlock,
  ]),
});
export const ContentBlockDeltaEvent = z.object({
  type: z.literal("content_block_delta"),
  index: BlockIndex,
  delta: z.union([
    z.object({ type: z.literal("text_delta"), text: z.string() }),
    z.object({ type: z.literal("thinking_delta"), thinking: z.string() }),
    z.object({ type: z.literal("input_json_delta"), partial_json: z.string() }),
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
