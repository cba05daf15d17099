import { countCallTokens } from "@conversation-api/core";
import { streamHandler } from "../http";
import { replyDeps } from "../reply-deps";
import { anthropicCall } from "../wire/anthropic/call";
import { anthropicErrors } from "../wire/anthropic/errors";
import { AnthropicCountTokensRequest, AnthropicCountTokensResponse, AnthropicVersionHeader } from "../wire/anthropic/schemas";
import { jsonStreamBody } from "../wire/sse";

export const handler = streamHandler(
  "anthropic-count-tokens",
  {
    summary: "Anthropic Messages: the prompt's input tokens, as a call's message_start would report them",
    body: AnthropicCountTokensRequest,
    headers: AnthropicVersionHeader,
    response: AnthropicCountTokensResponse,
    errorFormat: anthropicErrors,
  },
  async (input) => {
    const call = await anthropicCall(input, input.body);
    const tokens = await countCallTokens(replyDeps(input.deps, input.userId, input.context.requestId, ""), call);
    return jsonStreamBody({ input_tokens: tokens });
  },
);
