import { MessageParams, RegenerateRequest, startReply } from "@conversation-api/core";
import { streamHandler } from "../http";
import { replyDeps } from "../reply-deps";
import { sseBody } from "../wire/sse";

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
        kind: "regenerate",
        conversationId: params.id,
        body,
        regenerateOf: params.message_id,
        receivedAt: context.receivedAt,
        remainingMs: context.getRemainingTimeInMillis?.(),
      },
    );
    return sseBody(reply);
  },
);
