import { MessageParams, ResumeHeaders, ResumeQuery, resumeReply } from "@conversation-api/core";
import { streamHandler } from "../http";
import { sseBody } from "../wire/sse";

export const handler = streamHandler(
  "messages-resume",
  {
    summary:
      "Follow a reply as Server-Sent Events: the events after Last-Event-ID (all of them without one), then the live reply until it ends",
    params: MessageParams,
    query: ResumeQuery,
    headers: ResumeHeaders,
  },
  async ({ deps, userId, params, query, headers, context }) => {
    const stream = await resumeReply(
      { store: deps.store.forUser(userId), provider: deps.provider, settings: deps.config },
      {
        conversationId: params.id,
        messageId: params.message_id,
        // The header is what EventSource sends on reconnect; the query parameter is for clients that cannot set headers.
        lastEventId: headers["last-event-id"] || query.last_event_id || null,
        remainingMs: context.getRemainingTimeInMillis?.(),
      },
    );
    return sseBody(stream);
  },
);
