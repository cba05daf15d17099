import { PageQuery, ConversationPage } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "Your conversations, most recent activity first", auth: true, query: PageQuery, response: ConversationPage }, ({ deps, userId, query }) =>
  deps.store.forUser(userId).listConversations(query),
);
