import { IdParams, UpdateConversationRequest, updateConversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  { auth: true, params: IdParams, body: UpdateConversationRequest },
  ({ deps, userId, params, body }) => updateConversation(deps.store.forUser(userId), params.id, body),
);
