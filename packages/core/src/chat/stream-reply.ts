// The reply routes' entry points: start a reply (send or regenerate), resume one, cancel one.
import { AppError, conflict, notFound } from "../errors";
import type { StoredReply } from "../ports";
import { Admission } from "./admit";
import { parseEventId } from "./events";
import { followReply } from "./follow";
import { durationCap } from "./plan";
import type { ReplyDeps, ReplyRequest, ReplyStream } from "./types";

export { assertModelAllowed, durationCap } from "./plan";

/**
 * Everything that can refuse the request before a byte is streamed (404, 409, 422, 429). It sits in
 * front of the first token, so the model call starts as soon as the prompt is known and begin_reply
 * decides while the request travels: see admit.ts.
 */
export async function startReply(deps: ReplyDeps, req: ReplyRequest): Promise<ReplyStream> {
  // The previous reply's stream may have ended a moment ago, with its final write still on its way.
  await deps.finishing?.settled(req.conversationId);
  const release = await deps.turns?.lock(req.conversationId);
  try {
    return await new Admission(deps, req).admit();
  } finally {
    release?.();
  }
}

export interface MessageRef {
  conversationId: string;
  messageId: string;
}

async function ownReply(deps: Pick<ReplyDeps, "store" | "settings">, ref: MessageRef): Promise<StoredReply> {
  const row = await deps.store.getReply(ref.messageId, deps.settings.REPLY_STALE_MS);
  if (!row || row.conversation_id !== ref.conversationId) throw notFound("Message");
  return row;
}

/**
 * GET …/messages/{message_id}/stream: the reply's events after `lastEventId` (all of them without
 * one), then the live reply until it ends. 404 for anything but the caller's assistant message.
 */
export async function resumeReply(
  deps: ReplyDeps,
  ref: MessageRef & { lastEventId: string | null; remainingMs?: number | undefined },
): Promise<ReplyStream> {
  const after = ref.lastEventId ? parseEventId(ref.lastEventId) : null;
  if (ref.lastEventId && !after)
    throw new AppError("validation_error", "Last-Event-ID is not an event id of this API", {
      fields: [{ path: "header.last-event-id", message: "must be the id of an event this stream sent" }],
    });
  const first = await ownReply(deps, ref);
  const maxDurationMs = durationCap(deps.settings, ref.remainingMs);
  return {
    run: async (emit, signal) => {
      await followReply(deps, first, { after, maxDurationMs }, emit, signal);
      return null;
    },
  };
}

/**
 * POST …/messages/{message_id}/cancel. The producer, on whichever instance, reads the request on its
 * next flush and stops. 409 (naming the finish reason) when the reply already ended, also when it ended
 * a moment ago: a final write still in flight in this process is waited for, and request_cancel waits
 * for one in flight in the database, so a reply whose stream the client saw end is never "cancelling".
 */
export async function cancelReply(
  deps: Pick<ReplyDeps, "store" | "settings" | "finishing">,
  ref: MessageRef,
): Promise<{ id: string; status: "cancelling" }> {
  await deps.finishing?.settled(ref.conversationId);
  await ownReply(deps, ref);
  const r = await deps.store.requestCancel(ref.messageId, deps.settings.REPLY_STALE_MS);
  if (!r) throw notFound("Message");
  if (r.status === "ended") throw conflict(`The reply already ended (finish_reason: ${r.finish_reason})`);
  return { id: ref.messageId, status: "cancelling" };
}
