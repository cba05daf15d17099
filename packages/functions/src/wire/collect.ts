// A reply read to its end, for the formats' non-streamed answers: the same events a stream carries,
// gathered into the message they describe. An `error` event makes the whole answer that error.
import { AppError, type FinishReason, type ReplyEvent, type ReplyStream } from "@conversation-api/core";

/** A tool call of the reply: its input as the JSON text the model wrote. */
export interface CollectedToolCall {
  id: string;
  name: string;
  input: string;
}

export interface Collected {
  id: string;
  model: string;
  thinking: string;
  text: string;
  tool_calls: CollectedToolCall[];
  stop_reason: FinishReason;
  input_tokens: number;
  output_tokens: number;
}

/** A tool call's input as an object, as the formats carry it: {} when the text is not a JSON object (a reply cut short). */
export function inputObject(json: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(json);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The reply's events gathered; throws the reply's failure as an AppError (its public type and message). */
export async function collectReply(reply: ReplyStream, signal: AbortSignal): Promise<Collected> {
  const out: Collected = { id: "", model: "", thinking: "", text: "", tool_calls: [], stop_reason: "end_turn", input_tokens: 0, output_tokens: 0 };
  let failure: AppError | null = null;
  const take = (e: ReplyEvent) => {
    switch (e.type) {
      case "message_start":
        out.id = e.data.message.id;
        out.model = e.data.message.model;
        out.input_tokens = e.data.message.usage.input_tokens;
        break;
      case "content_block_start":
        if (e.data.content_block.type === "tool_use") out.tool_calls.push({ id: e.data.content_block.id, name: e.data.content_block.name, input: "" });
        break;
      case "content_block_delta":
        if (e.data.delta.type === "text_delta") out.text += e.data.delta.text;
        else if (e.data.delta.type === "thinking_delta") out.thinking += e.data.delta.thinking;
        else if (out.tool_calls.length) out.tool_calls.at(-1)!.input += e.data.delta.partial_json;
        break;
      case "message_delta":
        out.stop_reason = e.data.delta.stop_reason;
        out.output_tokens = e.data.usage.output_tokens;
        break;
      case "error":
        failure = new AppError(e.data.error.type, e.data.error.message, { expose: true });
        break;
    }
  };
  await reply.run(take, signal);
  if (failure) throw failure;
  return out;
}
