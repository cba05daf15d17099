import { RefreshRequest } from "@conversation-api/core";
import { logout } from "@conversation-api/core/accounts";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "auth-logout",
  { summary: "Sign out: revoke the refresh token and every token rotated from the same sign-in", body: RefreshRequest },
  ({ deps, body }) => logout({ store: deps.store, tokens: deps.tokens, settings: deps.config }, body),
);
