import { AppError, type ReplyFailure } from "@conversation-api/core";

/**
 * A reply that failed after the stream began leaves no HTTP error status behind, so it is logged here.
 * Only our own error's type and message and the upstream status go out: never the upstream's body,
 * which could echo the API key.
 */
export function logFailure(requestId: string, f: ReplyFailure) {
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
