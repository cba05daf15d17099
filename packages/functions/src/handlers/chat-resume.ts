import { resumeReply } from "@conversation-api/core";
import { streamHandler } from "../http";
import { finishing } from "../reply-deps";
import { uiStreamBody } from "../wire/ui-stream/encode";
import { UI_STREAM_DESCRIPTION, UiMessagePart } from "../wire/ui-stream/parts";
import { ChatParams, conversationIdOf } from "../wire/ui-stream/request";

export const handler = streamHandler(
  "chat-resume",
  {
    summary:
      "What useChat's `resume: true` asks on load: the chat's reply that is still streaming, from its start, as the AI SDK UI message stream; 204 when none is (also for a chat that does not exist yet)",
    params: ChatParams,
    stream: { description: UI_STREAM_DESCRIPTION, schema: UiMessagePart },
    noContent: "No reply of this chat is streaming",
  },
  async ({ deps, userId, params, context }) => {
    const conversationId = conversationIdOf(userId, params.id);
    const store = deps.store.forUser(userId);
    const settings = deps.config;
    // A reply whose stream just ended here may still be on its way to the database: not streaming.
    await finishing.settled(conversationId);
    // Only one reply of a conversation streams at a time, and it is the current branch's leaf; its
    // parent is the user message it answers.
    const history = (await store.prepareTurn(conversationId, { historyLimit: 2, idempotencyKey: null }))?.history ?? [];
    const leaf = history.at(-1);
    if (leaf?.role !== "assistant" || leaf.finish_reason !== null) return null;
    // Read again, as resume does: a reply whose producer died is settled (as error) by that read.
    const row = await store.getReply(leaf.id, settings.REPLY_STALE_MS);
    if (row?.finish_reason !== null) return null;
    const stream = await resumeReply(
      { store, provider: deps.provider, settings },
      { conversationId, messageId: leaf.id, lastEventId: null, remainingMs: context.getRemainingTimeInMillis?.() },
    );
    // A reply to tool results was streamed as the next step of the client's assistant message
    // (chat-send): resumed, it is written the same way, or a reloaded page would show only this step.
    const parent = history.at(-2);
    return uiStreamBody(stream, { step: (parent?.tool_result?.length ?? 0) > 0 });
  },
);
