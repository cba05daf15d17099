// What PostgREST's error responses mean to the API. PostgREST answers a failed statement with the
// SQLSTATE in `code` and PostgreSQL's message (which names the violated constraint) in `message`.
import { conflict, notFound, unauthorized } from "@conversation-api/core";

export interface PostgrestFailure {
  code: string;
  message: string;
  details?: string | null;
  hint?: string | null;
}

/** A failure with no meaning to the API (network, timeout, a bug): becomes a 500 with the details logged. */
export class SupabaseRequestError extends Error {
  readonly code: string;
  constructor(operation: string, failure: PostgrestFailure) {
    super(`Supabase ${operation} failed: ${failure.code ? `${failure.code} ` : ""}${failure.message}`);
    this.name = "SupabaseRequestError";
    this.code = failure.code;
  }
}

export function createUserError(e: PostgrestFailure): Error {
  if (e.code === "23505") return conflict("Email is already registered");
  return new SupabaseRequestError("createUser", e);
}

export function createConversationError(e: PostgrestFailure): Error {
  // A valid token for an account that has since been deleted: the foreign key to users fails.
  if (e.code === "23503") return unauthorized();
  return new SupabaseRequestError("createConversation", e);
}

/** begin_reply's failures, exactly as the SQL store maps them. */
export function appendMessageError(operation: string, e: PostgrestFailure): Error {
  switch (e.code) {
    case "P0002": // raised by the function: not the caller's conversation
    case "23503": // deleted between the check and the insert
    case "42501": // RLS rejected the row
      return notFound("Conversation");
    case "23505":
      return e.message.includes('"messages_idempotency_key"')
        ? conflict("This Idempotency-Key was already used in this conversation")
        : conflict("A message with this id already exists");
    default:
      return new SupabaseRequestError(operation, e);
  }
}
