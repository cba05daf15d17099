import { IdParams, revokeApiKey } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "api-keys-delete",
  { summary: "Revoke an API key, effective on the next request; needs a signed-in session", params: IdParams, errors: [403] },
  ({ deps, userId, params }) => revokeApiKey(deps.store.forUser(userId), params.id),
);
