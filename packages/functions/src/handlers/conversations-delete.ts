import { IdParams, deleteConversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-delete",
  { summary: "Delete a conversation and its messages", params: IdParams },
  ({ deps, userId, params }) =>
    deleteConversation(deps.store.forUser(userId), params.id),
);
