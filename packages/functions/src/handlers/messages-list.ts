import { IdParams, PageQuery, listMessages, MessagePage } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "messages-list",
  { summary: "Messages of a conversation, oldest first", params: IdParams, query: PageQuery, response: MessagePage },
  ({ deps, userId, params, query }) =>
    listMessages(deps.store.forUser(userId), params.id, query, deps.config.REPLY_STALE_MS),
);
