import { CreateApiKeyRequest, CreatedApiKey, createApiKey } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler(
  "api-keys-create",
  { summary: "Create an API key (shown once); needs a signed-in session", body: CreateApiKeyRequest, status: 201, response: CreatedApiKey, errors: [403] },
  ({ deps, userId, body }) => createApiKey(deps.store.forUser(userId), body),
);
