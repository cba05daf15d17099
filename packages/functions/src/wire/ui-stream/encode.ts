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
//   content_block_start tool_use → tool-input-start (toolCallId: the tool_use id, toolName)
//   input_json_delta             → tool-input-delta (inputTextDelta)
//   content_block_stop (tool)    → tool-input-available (input: the JSON parsed); tool-input-error when
//                                  it is not JSON (a reply cut short)
//   message_delta + message_stop → finish (finishReason; metadata: our stop_reason, output tokens), [DONE]
//   error                        → the open part's -end (an open tool call's tool-input-error), error (errorText), [DONE]
// A reply that continues a tool loop (the client's tool results sent back) is a new step of the same
// assistant message in the client: its start names no messageId (the client keeps the message's, the
// first step's reply; metadata.reply_id names this one), then start-step, and finish-step before
// finish, so the SDK's step-aware helpers (lastAssistantMessageIsCompleteWithToolCalls) read only its parts.
// Its resume (chat-resume) is written the same way.
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

/** A tool call being streamed: its id, name and input so far. */
interface OpenTool {
  id: string;
  name: string;
  json: string;
}

export interface UiStreamOptions {
  /** The reply is a further step of the client's assistant message (it follows tool results). */
  step?: boolean;
}

/** The part that ends a tool call's input: available when it is JSON, else an input error. */
function toolInputEnd(t: OpenTool, failure?: string): string {
  if (failure === undefined)
    try {
      return part({ type: "tool-input-available", toolCallId: t.id, toolName: t.name, input: JSON.parse(t.json === "" ? "{}" : t.json) });
    } catch {
      failure = "The tool call's input was cut short";
    }
  return part({ type: "tool-input-error", toolCallId: t.id, toolName: t.name, input: t.json, errorText: failure });
}

/**
 * A new encoder for one reply: it remembers which kind of block each index opened (a stop names only
 * the index), which one is open (an error closes it), the tool call being streamed, and the stop
 * reason until the stream's end.
 */
export function uiStreamEncoder(opts: UiStreamOptions = {}): (event: ReplyEvent) => string {
  const kinds: Kind[] = [];
  let open: number | null = null;
  let tool: OpenTool | null = null;
  let stopReason = "end_turn";
  let outputTokens = 0;
  return (event) => {
    switch (event.type) {
      case "content_block_delta": {
        // One per token: a template rather than an object to serialise (the same bytes).
        const { index, delta } = event.data;
        if (delta.type === "input_json_delta") {
          if (!tool) return "";
          tool.json += delta.partial_json;
          return `data: {"type":"tool-input-delta","toolCallId":${JSON.stringify(tool.id)},"inputTextDelta":${JSON.stringify(delta.partial_json)}}\n\n`;
        }
        return delta.type === "text_delta"
          ? `data: {"type":"text-delta","id":"${index}","delta":${JSON.stringify(delta.text)}}\n\n`
          : `data: {"type":"reasoning-delta","id":"${index}","delta":${JSON.stringify(delta.thinking)}}\n\n`;
      }
      case "message_start": {
        const m = event.data.message;
        if (!opts.step) return part({ type: "start", messageId: m.id, messageMetadata: { conversation_id: m.conversation_id, model: m.model } });
        // A step keeps the client's message id (the AI SDK starts a new message on a new id); the stored reply's is in the metadata.
        return part({ type: "start", messageMetadata: { conversation_id: m.conversation_id, model: m.model, reply_id: m.id } }) + 'data: {"type":"start-step"}\n\n';
      }
      case "content_block_start": {
        const { index, content_block } = event.data;
        if (content_block.type === "tool_use") {
          kinds[index] = "tool";
          tool = { id: content_block.id, name: content_block.name, json: "" };
          return part({ type: "tool-input-start", toolCallId: tool.id, toolName: tool.name });
        }
        // The provider's server tools are not carried in this format (the native stream has them): their stop finds no open call.
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
        if (kinds[index] === "tool") {
          const done = tool;
          tool = null;
          return done ? toolInputEnd(done) : "";
        }
        open = null;
        return `data: {"type":"${kinds[index] ?? "text"}-end","id":"${index}"}\n\n`;
      }
      case "message_delta":
        stopReason = event.data.delta.stop_reason;
        outputTokens = event.data.usage.output_tokens;
        return "";
      case "message_stop":
        return (
          (opts.step ? 'data: {"type":"finish-step"}\n\n' : "") +
          part({
            type: "finish",
            finishReason: FINISH_REASON[stopReason] ?? "other",
            messageMetadata: { stop_reason: stopReason, output_tokens: outputTokens },
          }) + DONE
        );
      case "ping":
        return KEEP_ALIVE;
      case "error": {
        const close =
          (open === null ? "" : `data: {"type":"${kinds[open] ?? "text"}-end","id":"${open}"}\n\n`) + (tool ? toolInputEnd(tool, event.data.error.message) : "");
        open = null;
        tool = null;
        return close + part({ type: "error", errorText: event.data.error.message }) + DONE;
      }
    }
  };
}

/** A streaming route's answer for a reply: the UI message stream's headers, and its parts as they come. */
export function uiStreamBody(reply: ReplyStream, opts: UiStreamOptions = {}): StreamBody {
  return {
    headers: UI_STREAM_HEADERS,
    run: (write, signal, end) => {
      const encode = uiStreamEncoder(opts);
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
