// The turn a reply answers: the conversation and the branch its prompt is built from, read from the
// database or, for a plain send on a conversation this instance kept, from the kept history (no round
// trip in front of the first token). Refused (404, 422, 409) when the conversation, the parent or the
// replaced reply is not there, or an Idempotency-Key names a send that cannot be answered again.
import { AppError, notFound } from "../errors";
import type { TurnContext, TurnParent } from "../ports";
import type { Message } from "../schemas";
import { askedOf, askedOfMessage, type Asked } from "./asked";
import { idempotencyKeyOf, planSend } from "./idempotency";
import type { ReplyDeps, ReplyRequest } from "./types";

/** What the request asks for, the same on every try. */
export interface Target {
  key: string | null;
  /** The assistant message a regenerate replaces. */
  regen: string | null;
  parent: TurnParent | undefined;
  /** No branch, regenerate or Idempotency-Key: the only send kept history may answer. */
  plain: boolean;
}

export interface AdmittedTurn {
  /** As read (or kept): the conversation and its branch up to the parent. */
  context: TurnContext;
  /** The history the prompt is built from. */
  history: Message[];
  /** What the reply answers: the message's text and the tool results it carries. */
  asked: Asked;
  /** The stored user message a regenerate answers (a send's is stored by begin_reply). */
  answerTo: Message | null;
  /** The stored user message a retried send answers again (nothing new is stored for it). */
  retried: Message | null;
  /** The branch's leaf is a reply still streaming. */
  streaming: boolean;
}

export function targetOf(req: ReplyRequest): Target {
  // The prompt's history is the path from the root to the new message's parent (branches). A regenerate
  // reads the path down to the reply it replaces, then drops that reply and answers its user message again.
  const regen = req.kind === "regenerate" ? req.regenerateOf : null;
  const key = idempotencyKeyOf(req);
  const parentId = req.kind === "send" ? req.body.parent_id : undefined;
  const parent = regen ? { branch: true, parentId: regen } : parentId !== undefined ? { branch: true, parentId } : undefined;
  return { key, regen, parent, plain: !regen && !parent && !key };
}

/** With `useKept`, a plain send on a conversation this instance kept reads nothing. */
export async function readTurn(deps: ReplyDeps, req: ReplyRequest, target: Target, useKept: boolean): Promise<AdmittedTurn> {
  const { regen, plain } = target;
  const kept = useKept && plain ? deps.turns?.get(req.conversationId) : undefined;
  const context: TurnContext | null = kept
    ? { conversation: kept.conversation, history: kept.history, idempotent: null, parent_found: true }
    : await deps.store.prepareTurn(req.conversationId, {
        historyLimit: deps.settings.HISTORY_LIMIT + (regen ? 2 : 0),
        idempotencyKey: target.key,
        parent: target.parent,
      });
  if (!context) {
    deps.turns?.forget(req.conversationId);
    throw notFound("Conversation");
  }
  if (!context.parent_found) {
    if (regen) throw notFound("Message");
    throw new AppError("validation_error", "parent_id is not a message of this conversation", {
      fields: [{ path: "body.parent_id", message: "must be the id of a message in this conversation" }],
    });
  }
  const leaf = context.history.at(-1);
  const streaming = leaf?.role === "assistant" && leaf.finish_reason === null;
  if (plain && !kept && !streaming) deps.turns?.keep({ conversation: context.conversation, history: context.history }, deps.settings.HISTORY_LIMIT);
  const base = { context, streaming };
  if (req.kind === "send") {
    const asked = askedOf(req.body.content);
    const send = planSend(context, asked);
    return { ...base, history: send.history, asked, answerTo: null, retried: send.retried };
  }
  const replaced = context.history.at(-1);
  const asked = context.history.at(-2);
  if (replaced?.id !== req.regenerateOf || replaced.role !== "assistant" || asked?.role !== "user") throw notFound("Message");
  return { ...base, history: context.history.slice(0, -2), asked: askedOfMessage(asked), answerTo: asked, retried: asked };
}
