// The reply's typed events (core's ReplyEvent) in the AI SDK's UI message stream protocol, which
// `useChat` and `DefaultChatTransport` read: SSE whose `data:` lines are JSON parts, ending with
// `data: [DONE]`, under the header `x-vercel-ai-ui-message-stream: v1`. The parts follow ai@6's
// uiMessageChunkSchema (node_modules/ai/dist: ui-message-chunks) and are written the way its
// JsonToSseTransformStream writes them.
//
//   message_start                → start (messageId: the stored reply's id; metadata: conversation, model)
//   content_block_start thinking → reasoning-start      text → text-start     (part id: the block index)
//   content_block_delta          → reasoning-delta / text-delta
//   content_block_stop           → reasoning-end / text-end
//   message_delta + message_stop → finish (finishReason; metadata: our stop_reason, output tokens), [DONE]
//   error                        → the open part's -end, error (errorText), [DONE]
//   ping                         → an SSE comment, as the SDK's own keep-alive
import type { ReplyEvent, ReplyStream } from "@conversation-api/core";
import type { StreamBody } from "../../http";

export const UI_STREAM_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
  "x-vercel-ai-ui-message-stream": "v1",
};

export const DONE = "data: [DONE]\n\n";
const KEEP_ALIVE = ": keep-alive\n\n";

/** Our stop reasons as the protocol's finish reasons; a cancelled reply is "other" (its metadata says cancelled). */
const FINISH_REASON: Record<string, string> = { end_turn: "stop", max_tokens: "length", tool_use: "tool-calls", cancelled: "other", error: "error" };

const part = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

type Kind = "reasoning" | "text" | "tool";

/**
 * A new encoder for one reply: it remembers which kind of block each index opened (a stop names only
 * the index), which one is open (an error closes it), and the stop reason until the stream's end.
 */
export function uiStreamEncoder(): (event: ReplyEvent) => string {
  const kinds: Kind[] = [];
  let open: number | null = null;
  let stopReason = "end_turn";
  let outputTokens = 0;
  return (event) => {
    switch (event.type) {
      case "content_block_delta": {
        // One per token: a template rather than an object to serialise (the same bytes).
        const { index, delta } = event.data;
        // Tool calls are not carried in this format yet (the native stream has them).
        if (delta.type === "input_json_delta") return "";
        return delta.type === "text_delta"
          ? `data: {"type":"text-delta","id":"${index}","delta":${JSON.stringify(delta.text)}}\n\n`
          : `data: {"type":"reasoning-delta","id":"${index}","delta":${JSON.stringify(delta.thinking)}}\n\n`;
      }
      case "message_start": {
        const m = event.data.message;
        return part({ type: "start", messageId: m.id, messageMetadata: { conversation_id: m.conversation_id, model: m.model } });
      }
      case "content_block_start": {
        const { index, content_block } = event.data;
        // Tool calls and the provider's server tools are not carried in this format (the native stream has them).
        if (content_block.type !== "thinking" && content_block.type !== "text") {
          kinds[index] = "tool";
          return "";
        }
        const kind: Kind = content_block.type === "thinking" ? "reasoning" : "text";
        kinds[index] = kind;
        open = index;
        return `data: {"type":"${kind}-start","id":"${index}"}\n\n`;
      }
      case "content_block_stop": {
        const { index } = event.data;
        if (kinds[index] === "tool") return "";
        open = null;
        return `data: {"type":"${kinds[index] ?? "text"}-end","id":"${index}"}\n\n`;
      }
      case "message_delta":
        stopReason = event.data.delta.stop_reason;
        outputTokens = event.data.usage.output_tokens;
        return "";
      case "message_stop":
        return (
          part({
            type: "finish",
            finishReason: FINISH_REASON[stopReason] ?? "other",
            messageMetadata: { stop_reason: stopReason, output_tokens: outputTokens },
          }) + DONE
        );
      case "ping":
        return KEEP_ALIVE;
      case "error": {
        const close = open === null ? "" : `data: {"type":"${kinds[open] ?? "text"}-end","id":"${open}"}\n\n`;
        open = null;
        return close + part({ type: "error", errorText: event.data.error.message }) + DONE;
      }
    }
  };
}

/** A streaming route's answer for a reply: the UI message stream's headers, and its parts as they come. */
export function uiStreamBody(reply: ReplyStream): StreamBody {
  return {
    headers: UI_STREAM_HEADERS,
    run: (write, signal, end) => {
      const encode = uiStreamEncoder();
      return reply.run(
        (event) => {
          const chunk = encode(event);
          if (chunk !== "") write(chunk);
        },
        signal,
        end,
      );
    },
  };
}
