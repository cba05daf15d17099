import { ChangePasswordRequest, TokenResponse } from "@conversation-api/core";
import { changePassword } from "@conversation-api/core/accounts";
import { clientIp } from "../client-ip";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "auth-password",
  {
    summary: "Change the password; signs out every session and returns a fresh pair",
    body: ChangePasswordRequest,
    response: TokenResponse,
    errors: [403, 429],
  },
  ({ deps, body, userId, event }) =>
    changePassword({ store: deps.store, tokens: deps.tokens, settings: deps.config }, userId, body, clientIp(event)),
);
