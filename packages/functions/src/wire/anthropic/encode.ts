// Our reply's events in Anthropic's Messages stream. Our stream is that sequence already (wire/sse.ts),
// so the token path is the native encoder's (tool_use blocks and their input_json_delta included);
// only two events change: message_start leaves out our `conversation_id`, and message_delta names
// only Anthropic's stop reasons (a cancelled reply ends with `end_turn`: docs/api.md). Ids stay, so a bound reply's events resume with the native endpoint.
import type { FinishReason, ReplyEvent } from "@conversation-api/core";
import { encodeSse } from "../sse";
import { anthropicErrorType } from "./errors";

/** Anthropic's stop reason for ours: the reply ended, hit its token limit, or called tools. */
export const anthropicStopReason = (r: FinishReason): "end_turn" | "max_tokens" | "tool_use" =>
  r === "max_tokens" || r === "tool_use" ? r : "end_turn";

const frame = (id: number | null, name: string, data: unknown) => `${id === null ? "" : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

export function encodeAnthropic(event: ReplyEvent): string {
  switch (event.type) {
    case "message_start": {
      const { conversation_id: _, ...message } = event.data.message;
      return frame(event.id, "message_start", { type: "message_start", message });
    }
    case "message_delta":
      return frame(event.id, "message_delta", {
        type: "message_delta",
        delta: { stop_reason: anthropicStopReason(event.data.delta.stop_reason), stop_sequence: null },
        usage: event.data.usage,
      });
    case "error":
      return frame(null, "error", { type: "error", error: { type: anthropicErrorType(event.data.error.type), message: event.data.error.message } });
    default:
      return encodeSse(event);
  }
}

/** Stateless: one function serves every reply. */
export const anthropicEncoder = () => encodeAnthropic;
