import { AppError, IdParams, StreamHeaders, StreamRequest, startReply } from "@conversation-api/core";
import { SSE_HEADERS, streamHandler } from "../http";
import { loadTokenCounter } from "../tokenizer";
import { logFailure } from "../reply-log";

export const handler = streamHandler(
  "messages-stream",
  {
    summary:
      "Send a message and stream the reply as Server-Sent Events (409 with reply_id while another reply of the conversation streams; parent_id starts a branch)",
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
