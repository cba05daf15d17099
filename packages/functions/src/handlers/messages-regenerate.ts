import { MessageParams, RegenerateRequest, startReply } from "@conversation-api/core";
import { SSE_HEADERS, streamHandler } from "../http";
import { replyDeps } from "../reply-deps";

export const handler = streamHandler(
  "messages-regenerate",
  {
    summary:
      "Answer an assistant message's user message again: the new reply is the old one's sibling (a branch) and becomes current. Same events as a send; resumable and cancellable",
    params: MessageParams,
    body: RegenerateRequest,
    errors: [409, 429],
  },
  async ({ deps, userId, params, body, context }) => {
    const reply = await startReply(
      replyDeps(deps, userId, context.requestId, params.id),
      {
        conversationId: params.id,
        // The content is the stored user message's, read in startReply.
        body: { ...body, content: "" },
        regenerateOf: params.message_id,
        idempotencyKey: null,
        receivedAt: context.receivedAt,
        remainingMs: context.getRemainingTimeInMillis?.(),
      },
    );
    return { headers: SSE_HEADERS, run: reply.run };
  },
);
