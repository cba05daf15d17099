import { IdParams, getConversation } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: true, params: IdParams }, ({ deps, userId, params }) =>
  getConversation(deps.store.forUser(userId), params.id),
);
