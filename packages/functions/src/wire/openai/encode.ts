// Our reply's events as OpenAI's chat.completion.chunk stream: one chunk per delta (reasoning in
// `delta.reasoning`, as Groq sends it; a tool call as `delta.tool_calls`: its index, id, type and name
// first, then its arguments in pieces, as OpenAI streams them), the finish reason in a last chunk with an empty delta, then,
// when asked (stream_options.include_usage), a chunk with `usage` and no choices, and `data: [DONE]`.
// Per reply: the chunk's id, creation time and model are fixed at message_start, so every delta is one
// template around its JSON-escaped text.
import type { FinishReason, ReplyEvent } from "@conversation-api/core";
import { openaiErrorBody } from "./errors";

/** OpenAI's finish reason for ours: `length` at the token limit, `tool_calls` after tool calls, else `stop` (a cancelled reply too). */
export const openaiFinishReason = (r: FinishReason): "stop" | "length" | "tool_calls" =>
  r === "max_tokens" ? "length" : r === "tool_use" ? "tool_calls" : "stop";

export const completionId = (messageId: string) => `chatcmpl-${messageId}`;

export interface OpenAIEncoderOptions {
  includeUsage: boolean;
  /** Seconds since the epoch, for `created` (now by default). */
  created?: number;
}

export function openaiEncoder(opts: OpenAIEncoderOptions): (event: ReplyEvent) => string {
  let head = "";
  let inputTokens = 0;
  /** The open tool call's index among the reply's calls (-1: none yet). */
  let tool = -1;
  return (event) => {
    switch (event.type) {
      case "message_start": {
        const m = event.data.message;
        inputTokens = m.usage.input_tokens;
        const created = opts.created ?? Math.floor(Date.now() / 1000);
        head = `data: {"id":${JSON.stringify(completionId(m.id))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(m.model)},"choices":`;
        return `${head}[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`;
      }
      case "content_block_delta": {
        const d = event.data.delta;
        if (d.type === "input_json_delta")
          return `${head}[{"index":0,"delta":{"tool_calls":[{"index":${tool},"function":{"arguments":${JSON.stringify(d.partial_json)}}}]},"logprobs":null,"finish_reason":null}]}\n\n`;
        return d.type === "text_delta"
          ? `${head}[{"index":0,"delta":{"content":${JSON.stringify(d.text)}},"logprobs":null,"finish_reason":null}]}\n\n`
          : `${head}[{"index":0,"delta":{"reasoning":${JSON.stringify(d.thinking)}},"logprobs":null,"finish_reason":null}]}\n\n`;
      }
      case "content_block_start": {
        const b = event.data.content_block;
        if (b.type !== "tool_use") return "";
        tool++;
        const call = { index: tool, id: b.id, type: "function", function: { name: b.name, arguments: "" } };
        return `${head}[{"index":0,"delta":{"tool_calls":[${JSON.stringify(call)}]},"logprobs":null,"finish_reason":null}]}\n\n`;
      }
      case "message_delta": {
        const out = event.data.usage.output_tokens;
        const finish = `${head}[{"index":0,"delta":{},"logprobs":null,"finish_reason":"${openaiFinishReason(event.data.delta.stop_reason)}"}]}\n\n`;
        return opts.includeUsage
          ? `${finish}${head}[],"usage":{"prompt_tokens":${inputTokens},"completion_tokens":${out},"total_tokens":${inputTokens + out}}}\n\n`
          : finish;
      }
      case "message_stop":
        return "data: [DONE]\n\n";
      case "ping":
        return ": ping\n\n";
      case "error":
        return `data: ${JSON.stringify(openaiErrorBody({ type: event.data.error.type, message: event.data.error.message }))}\n\n`;
      default:
        return "";
    }
  };
}
