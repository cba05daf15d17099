import { IdParams, StreamHeaders, StreamRequest, startReply } from "@conversation-api/core";
import { streamHandler } from "../http";
import { replyDeps } from "../reply-deps";
import { sseBody } from "../wire/sse";

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
      replyDeps(deps, userId, context.requestId, params.id),
      {
        kind: "send",
        conversationId: params.id,
        body,
        idempotencyKey: key,
        receivedAt: context.receivedAt,
        remainingMs: context.getRemainingTimeInMillis?.(),
      },
    );
    return sseBody(reply);
  },
);
