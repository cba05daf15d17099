// What the reply loop needs from a streaming handler, built the same way for a send and a regenerate.
import { AppError, FinishingReplies, type ReplyDeps, type ReplyFailure } from "@conversation-api/core";
import type { Deps } from "./deps";
import { keptTurns } from "./kept-turns";
import { loadTokenCounter } from "./tokenizer";

/** One per process (a Lambda instance, the local runtime): see FinishingReplies. */
export const finishing = new FinishingReplies();

export function replyDeps(deps: Deps, userId: string, requestId: string, conversationId: string): ReplyDeps {
  return {
    store: deps.store.forUser(userId),
    provider: deps.provider,
    settings: deps.config,
    tokenizer: loadTokenCounter,
    onFailure: (f) => logFailure(requestId, f),
    onTitleFailure: (e) => logTitleFailure(requestId, conversationId, e),
    finishing,
    turns: keptTurns.forUser(userId),
  };
}

/** Only our own error's type and message go out: never an upstream body, which could echo the API key. */
const errorOf = (e: unknown) =>
  e instanceof AppError ? { type: e.type, message: e.message } : { name: String((e as Error)?.name ?? typeof e) };

/**
 * A reply that failed after the stream began leaves no HTTP error status behind, so it is logged here,
 * with the upstream status but never its body.
 */
function logFailure(requestId: string, f: ReplyFailure) {
  const cause = (f.error instanceof AppError ? f.error.cause : f.error) as { status?: unknown; name?: unknown } | undefined;
  console.error(
    JSON.stringify({
      level: "error",
      request_id: requestId,
      event: "reply_failed",
      conversation_id: f.conversationId,
      reply_id: f.replyId,
      partial: f.partial,
      error: errorOf(f.error),
      cause: cause && { name: typeof cause.name === "string" ? cause.name : undefined, status: typeof cause.status === "number" ? cause.status : undefined },
    }),
  );
}

/** The first-words title was used instead; worth a line, not an alarm. */
function logTitleFailure(requestId: string, conversationId: string, e: unknown) {
  console.warn(JSON.stringify({ level: "warn", request_id: requestId, event: "title_failed", conversation_id: conversationId, error: errorOf(e) }));
}
