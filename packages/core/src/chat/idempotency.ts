import { AppError } from "../errors";
import type { TurnContext } from "../ports";
import type { Message } from "../schemas";
import { askedOfMessage, sameAsk, type Asked } from "./asked";
import type { ReplyRequest } from "./types";

export interface SendPlan {
  /** The user message already stored under this Idempotency-Key, to answer again instead of storing a copy. */
  retried: Message | null;
  /** The history the prompt is built from: for a retry, what came before the retried message. */
  history: Message[];
}

const finished = (m: Message) => m.finish_reason === "end_turn" || m.finish_reason === "max_tokens" || m.finish_reason === "tool_use";

/**
 * What an Idempotency-Key that was seen before means. A send whose reply finished is done: 409 with that
 * reply's id. A send whose reply failed or was cancelled (the reason a client retries) is answered again
 * from its stored user message, so the conversation never holds the same user message twice. A send the
 * conversation has moved on from (a later user message exists) cannot be answered again in place: 409.
 */
export function planSend(turn: TurnContext, asked: Asked | string): SendPlan {
  const prior = turn.idempotent;
  if (!prior) return { retried: null, history: turn.history };
  if (!sameAsk(askedOfMessage(prior.user_message), typeof asked === "string" ? { content: asked, tool_result: null } : asked)) throw keyMismatch();
  const at = turn.history.findIndex((m) => m.id === prior.user_message.id);
  const after = at >= 0 ? turn.history.slice(at + 1) : [];
  const nextUser = after.findIndex((m) => m.role === "user");
  const replies = at >= 0 ? after.slice(0, nextUser < 0 ? after.length : nextUser) : prior.reply ? [prior.reply] : [];
  const done = replies.find(finished);
  // Outside the loaded history the send is too old to answer again; with a later user message, too late.
  if (done || (at < 0 && prior.reply) || nextUser >= 0)
    throw new AppError("conflict_error", "This Idempotency-Key was already used; the reply is stored", {
      replyId: (done ?? replies.at(-1) ?? prior.reply)?.id,
    });
  return { retried: prior.user_message, history: at >= 0 ? turn.history.slice(0, at) : [] };
}

/** The request's Idempotency-Key: only a send has one (a regenerate is not retried under a key). */
export const idempotencyKeyOf = (req: ReplyRequest): string | null => (req.kind === "send" ? req.idempotencyKey : null);

/** A key names one send: reusing it for another message is a client bug, not a retry. */
export const keyMismatch = () =>
  new AppError("validation_error", "This Idempotency-Key was already used for a different message", {
    fields: [{ path: "header.idempotency-key", message: "already used in this conversation with other content" }],
  });
