import { LogoutAllResponse } from "@conversation-api/core";
import { logoutAll } from "@conversation-api/core/accounts";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "auth-logout-all",
  {
    summary: "Sign out everywhere: revoke every refresh token of the user; access tokens already issued last until they expire, API keys stay",
    response: LogoutAllResponse,
    errors: [403],
  },
  ({ deps, userId }) => logoutAll(deps.store, userId),
);
