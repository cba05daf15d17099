import { CreateConversationRequest, createConversation, Conversation } from "@conversation-api/core";
import { jsonHandler } from "../http";
import { keptTurns } from "../kept-turns";

export const handler = jsonHandler(
  "conversations-create",
  { summary: "Start a conversation", body: CreateConversationRequest, status: 201, response: Conversation },
  async ({ deps, userId, body }) => {
    const conversation = await createConversation(deps.store.forUser(userId), body, {
      default: deps.config.DEFAULT_MODEL,
      allowed: deps.config.ALLOWED_MODELS,
    });
    // Where this process also answers sends (the local runtime), the first one needs no read.
    keptTurns.forUser(userId).keep({ conversation, history: [] }, deps.config.HISTORY_LIMIT);
    return conversation;
  },
);
