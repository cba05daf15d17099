import { AppError, IdParams, StreamHeaders, StreamRequest, startReply, type ReplyFailure } from "@conversation-api/core";
import { SSE_HEADERS, streamHandler } from "../http";
import { loadTokenCounter } from "../tokenizer";

export const handler = streamHandler(
  "messages-stream",
  {
    summary: "Send a message and stream the reply as Server-Sent Events",
    params: IdParams,
    body: StreamRequest,
    headers: StreamHeaders,
    errors: [409, 429],
  },
  async ({ deps, userId, params, body, headers, context }) => {
    const key = headers["idempotency-key"] ?? null;
    const reply = await startReply(
      {
        store: deps.store.forUser(userId),
        provider: deps.provider,
        settings: deps.config,
        tokenizer: loadTokenCounter,
        onFailure: (f) => logFailure(context.requestId, f),
        onTitleFailure: (e) => logTitleFailure(context.requestId, params.id, e),
      },
      {
        conversationId: params.id,
        body,
        idempotencyKey: key,
        receivedAt: context.receivedAt,
        remainingMs: context.getRemainingTimeInMillis?.(),
      },
    );
    return { headers: SSE_HEADERS, run: reply.run };
  },
);

/**
 * A reply that failed after the stream began leaves no HTTP error status behind, so it is logged here.
 * Only our own error's type and message and the upstream status go out: never the upstream's body,
 * which could echo the API key.
 */
function logFailure(requestId: string, f: ReplyFailure) {
  const e = f.error instanceof AppError ? f.error : null;
  const cause = (e ? e.cause : f.error) as { status?: unknown; name?: unknown } | undefined;
  console.error(
    JSON.stringify({
      level: "error",
      request_id: requestId,
      event: "reply_failed",
      conversation_id: f.conversationId,
      reply_id: f.replyId,
      partial: f.partial,
      error: e ? { type: e.type, message: e.message } : { name: String((f.error as Error)?.name ?? typeof f.error) },
      cause: cause && { name: typeof cause.name === "string" ? cause.name : undefined, status: typeof cause.status === "number" ? cause.status : undefined },
    }),
  );
}

/** The first-words title was used instead; worth a line, not an alarm. Only our own error's type goes out. */
function logTitleFailure(requestId: string, conversationId: string, e: unknown) {
  console.warn(
    JSON.stringify({
      level: "warn",
      request_id: requestId,
      event: "title_failed",
      conversation_id: conversationId,
      error: e instanceof AppError ? { type: e.type, message: e.message } : { name: String((e as Error)?.name ?? typeof e) },
    }),
  );
}
