// Errors as OpenAI answers them: `{error: {message, type, param, code}}`. Our 422 (a field failed
// validation) and 415 are OpenAI's 400; `param` names the first failing field.
import type { ErrorType, PublicError } from "@conversation-api/core";
import type { ErrorFormat } from "../../http";
import { errorMessage, firstField } from "../error-message";
import { OpenAIError } from "./schemas";

const TYPE: Partial<Record<ErrorType, string>> = {
  authentication_error: "authentication_error",
  permission_error: "permission_error",
  rate_limit_error: "rate_limit_error",
  overloaded_error: "server_error",
  api_error: "server_error",
  timeout_error: "server_error",
};

const CODE: Partial<Record<ErrorType, string>> = {
  authentication_error: "invalid_api_key",
  rate_limit_error: "rate_limit_exceeded",
  not_found_error: "not_found",
  conflict_error: "conflict",
  request_too_large: "request_too_large",
  timeout_error: "timeout",
  overloaded_error: "overloaded",
};

const statusOf = (status: number) => (status === 422 || status === 415 ? 400 : status);

export const openaiErrorBody = (e: Pick<PublicError, "type" | "message" | "fields">) => ({
  error: {
    message: errorMessage(e as PublicError),
    type: TYPE[e.type] ?? "invalid_request_error",
    param: firstField(e as PublicError),
    code: CODE[e.type] ?? null,
  },
});

export const openaiErrors: ErrorFormat = {
  render: (e) => ({ status: statusOf(e.status), body: openaiErrorBody(e) }),
  schema: OpenAIError,
  statusOf,
};
