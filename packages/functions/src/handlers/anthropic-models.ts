import { listModels, servedModels } from "@conversation-api/core";
import { streamHandler } from "../http";
import { anthropicErrors } from "../wire/anthropic/errors";
import { AnthropicVersionHeader, AnthropicModelList } from "../wire/anthropic/schemas";
import { jsonStreamBody } from "../wire/sse";

/** Groq's list has no creation dates to speak of; Anthropic's shape wants one. */
const CREATED_AT = new Date(0).toISOString();

export const handler = streamHandler(
  "anthropic-models",
  {
    summary: "Anthropic Messages: the models a call may name, in Anthropic's list shape (one page)",
    headers: AnthropicVersionHeader,
    response: AnthropicModelList,
    errorFormat: anthropicErrors,
  },
  async ({ deps }) => {
    const ids = listModels(deps.config, await servedModels(deps.provider.catalog)).data.map((m) => m.id);
    return jsonStreamBody({
      data: ids.map((id) => ({ type: "model", id, display_name: id, created_at: CREATED_AT })),
      has_more: false,
      first_id: ids[0] ?? null,
      last_id: ids.at(-1) ?? null,
    });
  },
);
