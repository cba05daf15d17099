// Errors as Anthropic answers them: `{type: "error", error: {type, message}}`, with Anthropic's statuses
// and types. Our 422 (a field failed validation) is Anthropic's 400; our 503 (the upstream is
// overloaded) is its 529; a 409 (a reply of the bound conversation is still streaming) keeps its status.
import type { ErrorType, PublicError } from "@conversation-api/core";
import type { ErrorFormat } from "../../http";
import { errorMessage } from "../error-message";
import { AnthropicError, type AnthropicErrorType } from "./schemas";
import type { z } from "zod";

type Type = z.infer<typeof AnthropicErrorType>;

const BY_TYPE: Record<ErrorType, Type> = {
  invalid_request_error: "invalid_request_error",
  validation_error: "invalid_request_error",
  conflict_error: "invalid_request_error",
  authentication_error: "authentication_error",
  permission_error: "permission_error",
  not_found_error: "not_found_error",
  request_too_large: "request_too_large",
  rate_limit_error: "rate_limit_error",
  api_error: "api_error",
  overloaded_error: "overloaded_error",
  timeout_error: "timeout_error",
};

const statusOf = (status: number) => (status === 422 || status === 415 ? 400 : status === 503 ? 529 : status);

export const anthropicErrorType = (type: ErrorType): Type => BY_TYPE[type];

export const anthropicErrorBody = (e: Pick<PublicError, "type" | "message" | "fields">) => ({
  type: "error" as const,
  error: { type: BY_TYPE[e.type], message: errorMessage(e as PublicError) },
});

export const anthropicErrors: ErrorFormat = {
  render: (e) => ({ status: statusOf(e.status), body: anthropicErrorBody(e) }),
  schema: AnthropicError,
  statusOf,
};
