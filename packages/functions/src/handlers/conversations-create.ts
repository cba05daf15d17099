import { CreateConversationRequest, createConversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: true, body: CreateConversationRequest, status: 201 }, ({ deps, userId, body }) =>
  createConversation(deps.store.forUser(userId), body, {
    default: deps.config.DEFAULT_MODEL,
    allowed: deps.config.ALLOWED_MODELS,
  }),
);
