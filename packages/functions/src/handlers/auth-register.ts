import { RegisterRequest, TokenResponse } from "@conversation-api/core";
import { register } from "@conversation-api/core/accounts";
import { clientIp } from "../client-ip";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "auth-register",
  { summary: "Create an account and get an access token and a refresh token", body: RegisterRequest, status: 201, response: TokenResponse, errors: [409, 429] },
  ({ deps, body, event }) => register({ store: deps.store, tokens: deps.tokens, settings: deps.config }, body, clientIp(event)),
);
