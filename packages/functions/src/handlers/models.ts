import { listModels, ModelList, servedModels } from "@conversation-api/core";
import { jsonHandler } from "../http";

// Public: the list is the server's configuration and the provider's public model list, the same for
// every caller and secret to none, and a client (the playground's sign-in page among them) may want it
// before anyone signs in.
export const handler = jsonHandler(
  "models",
  { summary: "The models a conversation or send may name, with the default, as the provider serves them now", response: ModelList },
  async ({ deps }) => listModels(deps.config, await servedModels(deps.provider.catalog)),
);
