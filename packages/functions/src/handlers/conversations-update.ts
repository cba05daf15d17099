import { IdParams, UpdateConversationRequest, updateConversation, Conversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-update",
  { summary: "Rename a conversation or change its system prompt", params: IdParams, body: UpdateConversationRequest, response: Conversation },
  ({ deps, userId, params, body }) => updateConversation(deps.store.forUser(userId), params.id, body),
);
