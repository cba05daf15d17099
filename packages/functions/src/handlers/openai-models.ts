import { listModels, servedModels } from "@conversation-api/core";
import { streamHandler } from "../http";
import { openaiErrors } from "../wire/openai/errors";
import { OpenAIModelList } from "../wire/openai/schemas";
import { jsonStreamBody } from "../wire/sse";

export const handler = streamHandler(
  "openai-models",
  { summary: "OpenAI Chat Completions: the models a call may name, in OpenAI's list shape", response: OpenAIModelList, errorFormat: openaiErrors },
  async ({ deps }) => {
    const list = listModels(deps.config, await servedModels(deps.provider.catalog));
    return jsonStreamBody({ object: "list", data: list.data.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: list.source })) });
  },
);
