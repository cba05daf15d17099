import { ApiKeyList, listApiKeys } from "@conversation-api/core";
import { jsonHandler } from "../http";

export const handler = jsonHandler("api-keys-list", { summary: "Your live API keys (never the keys themselves)", response: ApiKeyList }, ({ deps, userId }) =>
  listApiKeys(deps.store.forUser(userId)),
);
