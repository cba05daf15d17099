import { RefreshRequest, TokenResponse } from "@conversation-api/core";
import { refresh } from "@conversation-api/core/accounts";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "auth-refresh",
  {
    summary: "Exchange a refresh token for a new pair (the old one stops working; reusing it signs the whole session out)",
    body: RefreshRequest,
    response: TokenResponse,
    errors: [401],
  },
  ({ deps, body }) => refresh({ store: deps.store, tokens: deps.tokens, settings: deps.config }, body),
);
