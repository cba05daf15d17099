import { CancelResponse, MessageParams, cancelReply } from "@conversation-api/core";
import { jsonHandler } from "../http";
import { finishing } from "../reply-deps";

export const handler = jsonHandler(
  "messages-cancel",
  {
    summary: "Stop a reply that is streaming; its producer, on whichever instance, stores it as cancelled within about a second",
    params: MessageParams,
    status: 202,
    response: CancelResponse,
    errors: [409],
  },
  ({ deps, userId, params }) =>
    cancelReply({ store: deps.store.forUser(userId), settings: deps.config, finishing }, { conversationId: params.id, messageId: params.message_id }),
);
