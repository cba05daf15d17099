import { ConversationListQuery, ConversationPage } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "conversations-list",
  { summary: "Your conversations, most recent activity first; `q` keeps those whose title or messages match", query: ConversationListQuery, response: ConversationPage },
  ({ deps, userId, query }) => {
    const store = deps.store.forUser(userId);
    const page = { limit: query.limit, cursor: query.cursor };
    // A blank search box means no filter, not "match nothing".
    const q = query.q?.trim();
    return q ? store.searchConversations(q, page) : store.listConversations(page);
  },
);
