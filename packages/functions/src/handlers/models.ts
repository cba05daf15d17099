import { listModels, ModelList } from "@conversation-api/core";
import { jsonHandler } from "../http";

// Public: the list is the server's configuration, the same for every caller and secret to none, and a
// client (the playground's sign-in page among them) may want it before anyone signs in.
export const handler = jsonHandler(
  "models",
  { summary: "The models a conversation or send may name, with the default", response: ModelList },
  async ({ deps }) => listModels(deps.config),
);
