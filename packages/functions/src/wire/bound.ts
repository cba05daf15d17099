// What a wire format's call runs: by default a call that stores nothing (core's startCall); with an
// `x-conversation-id` header, a send in that conversation (startReply, kind "send"): its last user
// message (or the tool results it ends with) is stored with the reply, the prompt is the stored
// branch, and the reply resumes and cancels through the native endpoints. The response names the
// conversation and the message in headers.
import {
  AppError,
  ContentBlocks,
  startCall,
  startReply,
  withSampling,
  type CallRequest,
  type CallTurn,
  type ReplyEvent,
  type ReplyStream,
  type StreamRequest,
} from "@conversation-api/core";
import type { HandlerInput } from "../http";
import { replyDeps } from "../reply-deps";

/** Longest content a send stores (the native StreamRequest's limit). */
const MAX_CONTENT = 32_000;

export interface WireReply {
  reply: ReplyStream;
  /** x-conversation-id (bound calls); x-message-id is added once the reply's id is known. */
  headers: Record<string, string>;
}

type Input = Pick<HandlerInput<unknown, unknown, unknown, unknown>, "deps" | "userId" | "context">;

export async function startWireReply(input: Input, call: CallRequest, conversationId: string | null): Promise<WireReply> {
  const { deps, userId, context } = input;
  if (conversationId === null) return { reply: await startCall(replyDeps(deps, userId, context.requestId, ""), call), headers: {} };
  const content = sentContent(call.messages);
  const base = replyDeps(deps, userId, context.requestId, conversationId);
  const reply = await startReply(
    { ...base, provider: withSampling(base.provider, call) },
    {
      kind: "send",
      conversationId,
      body: {
        content,
        model: call.model,
        max_tokens: call.max_tokens,
        temperature: call.temperature,
        reasoning_effort: call.reasoning_effort,
        tools: call.tools,
        tool_choice: call.tool_choice,
      },
      idempotencyKey: null,
      receivedAt: call.receivedAt,
      remainingMs: call.remainingMs,
    },
  );
  return { reply, headers: { "x-conversation-id": conversationId } };
}

/**
 * What a bound call sends in the conversation: the last user message's text; or, when the messages
 * end with tool results (after the last assistant message), those results as tool_result blocks and
 * any text after them, as a native send answering the stored reply's calls.
 */
function sentContent(messages: CallTurn[]): StreamRequest["content"] {
  const tail = messages.slice(messages.findLastIndex((m) => m.role === "assistant") + 1);
  const results = tail.flatMap((m) => (m.role === "tool" ? [m] : []));
  const last = messages.at(-1);
  if (results.length === 0) {
    if (last?.role !== "user")
      throw new AppError("validation_error", "The last message must be the user's", {
        fields: [{ path: "body.messages", message: "must end with a user message or tool results" }],
      });
    if (last.content.length === 0 || last.content.length > MAX_CONTENT)
      throw new AppError("validation_error", "Request validation failed", {
        fields: [{ path: "body.messages", message: `the last message must have 1 to ${MAX_CONTENT} characters` }],
      });
    return last.content;
  }
  const text = tail.flatMap((m) => (m.role === "user" && m.content !== "" ? [m.content] : [])).join("\n\n");
  const blocks = [
    ...results.map((r) => ({ type: "tool_result" as const, tool_use_id: r.tool_use_id, content: r.content, ...(r.is_error && { is_error: true }) })),
    ...(text ? [{ type: "text" as const, text }] : []),
  ];
  const parsed = ContentBlocks.safeParse(blocks);
  if (!parsed.success)
    throw new AppError("validation_error", "Request validation failed", {
      fields: [{ path: "body.messages", message: `the tool results and the text after them: ${parsed.error.issues[0]!.message}` }],
    });
  return parsed.data;
}

/**
 * The reply, telling `onId` its message id from message_start. The reply loop emits message_start as
 * soon as `run` is called, before the handler's response (and its headers) goes out, so a streamed
 * response can still carry x-message-id.
 */
export function withMessageId(reply: ReplyStream, onId: (id: string) => void): ReplyStream {
  return {
    run: (emit, signal, end) =>
      reply.run(
        (e: ReplyEvent) => {
          if (e.type === "message_start") onId(e.data.message.id);
          emit(e);
        },
        signal,
        end,
      ),
  };
}
