import { PageQuery, ConversationPage } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-list",
  { summary: "Your conversations, most recent activity first", query: PageQuery, response: ConversationPage },
  ({ deps, userId, query }) =>
    deps.store.forUser(userId).listConversations(query),
);
