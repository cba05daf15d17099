import { PageQuery } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: true, query: PageQuery }, ({ deps, userId, query }) =>
  deps.store.forUser(userId).listConversations(query),
);
