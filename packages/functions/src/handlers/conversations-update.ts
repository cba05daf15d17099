import { IdParams, UpdateConversationRequest, updateConversation, Conversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  { summary: "Rename a conversation or change its system prompt", auth: true, params: IdParams, body: UpdateConversationRequest, response: Conversation },
  ({ deps, userId, params, body }) => updateConversation(deps.store.forUser(userId), params.id, body),
);
