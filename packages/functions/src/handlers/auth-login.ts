import { LoginRequest, login, TokenResponse } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "Exchange email and password for an access token", auth: false, body: LoginRequest, response: TokenResponse, errors: [401] }, ({ deps, body }) =>
  login(deps.store, deps.tokens, body),
);
