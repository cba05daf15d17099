import { IdParams, PageQuery, listMessages } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: true, params: IdParams, query: PageQuery }, ({ deps, userId, params, query }) =>
  listMessages(deps.store.forUser(userId), params.id, query),
);
