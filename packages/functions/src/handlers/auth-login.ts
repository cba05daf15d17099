import { LoginRequest, login } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: false, body: LoginRequest }, ({ deps, body }) =>
  login(deps.store, deps.tokens, body),
);
