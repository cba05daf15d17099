import { IdParams, StreamHeaders, StreamRequest, startReply } from "@conversation-api/core";
import { SSE_HEADERS, streamHandler } from "../http";
import { pathOf } from "../route-table";
import { loadTokenCounter } from "../tokenizer";
import { logFailure } from "../reply-log";

export const handler = streamHandler(
  {
    summary:
      "Send a message and stream the reply as Server-Sent Events (409 with reply_id while another reply of the conversation streams; parent_id starts a branch)",
    auth: true,
    params: IdParams,
    path: pathOf("messages-stream"),
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
