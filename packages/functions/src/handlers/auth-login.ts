import { LoginRequest, TokenResponse } from "@conversation-api/core";
import { login } from "@conversation-api/core/accounts";
import { clientIp } from "../client-ip";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "auth-login",
  { summary: "Exchange email and password for an access token and a refresh token", body: LoginRequest, response: TokenResponse, errors: [401, 429] },
  ({ deps, body, event }) => login({ store: deps.store, tokens: deps.tokens, settings: deps.config }, body, clientIp(event)),
);
