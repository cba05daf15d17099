import { RegisterRequest, register, TokenResponse } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ summary: "Create an account and get an access token", auth: false, body: RegisterRequest, status: 201, response: TokenResponse, errors: [409] }, ({ deps, body }) =>
  register(deps.store, deps.tokens, body),
);
