import { IdParams, getConversation, ConversationWithMessages } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-get",
  { summary: "A conversation with its first 100 messages", params: IdParams, response: ConversationWithMessages },
  ({ deps, userId, params }) =>
    getConversation(deps.store.forUser(userId), params.id, deps.config.REPLY_STALE_MS),
);
