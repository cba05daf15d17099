import { CreateConversationRequest, createConversation, Conversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-create",
  { summary: "Start a conversation", body: CreateConversationRequest, status: 201, response: Conversation },
  ({ deps, userId, body }) =>
    createConversation(deps.store.forUser(userId), body, {
      default: deps.config.DEFAULT_MODEL,
      allowed: deps.config.ALLOWED_MODELS,
    }),
);
