import { CreateConversationRequest, createConversation, Conversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "Start a conversation", auth: true, body: CreateConversationRequest, status: 201, response: Conversation }, ({ deps, userId, body }) =>
  createConversation(deps.store.forUser(userId), body, {
    default: deps.config.DEFAULT_MODEL,
    allowed: deps.config.ALLOWED_MODELS,
  }),
);
