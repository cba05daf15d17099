import { RegisterRequest, register } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler({ auth: false, body: RegisterRequest, status: 201 }, ({ deps, body }) =>
  register(deps.store, deps.tokens, body),
);
