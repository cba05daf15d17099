// An Anthropic request as our call, with the model's reasoning_effort worked out from `thinking`.
import { modelInfo, servedModels, type CallRequest } from "@conversation-api/core";
import type { HandlerInput } from "../../http";
import { effortFor, promptOf } from "./decode";
import type { AnthropicCountTokensRequest, AnthropicMessagesRequest } from "./schemas";

type Input = Pick<HandlerInput<unknown, unknown, unknown, unknown>, "deps" | "context">;

export async function anthropicCall(input: Input, body: AnthropicCountTokensRequest & Partial<AnthropicMessagesRequest>): Promise<CallRequest> {
  const { deps, context } = input;
  const efforts = body.thinking ? modelInfo(body.model, await servedModels(deps.provider.catalog), deps.config.MODEL_CONTEXT_WINDOWS).reasoning_efforts : [];
  return {
    ...promptOf(body),
    model: body.model,
    max_tokens: body.max_tokens,
    temperature: body.temperature,
    top_p: body.top_p,
    stop: body.stop_sequences,
    reasoning_effort: effortFor(body.thinking, efforts),
    receivedAt: context.receivedAt,
    remainingMs: context.getRemainingTimeInMillis?.(),
  };
}
