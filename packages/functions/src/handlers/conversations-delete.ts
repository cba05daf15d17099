import { IdParams, deleteConversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "Delete a conversation and its messages", auth: true, params: IdParams }, ({ deps, userId, params }) =>
  deleteConversation(deps.store.forUser(userId), params.id),
);
