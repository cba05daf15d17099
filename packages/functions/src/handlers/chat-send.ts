import { AppError, notFound, startReply, type ReplyRequest, type UserStore } from "@conversation-api/core";
import { streamHandler } from "../http";
import { keptTurns } from "../kept-turns";
import { replyDeps } from "../reply-deps";
import { uiStreamBody } from "../wire/ui-stream/encode";
import { UI_STREAM_DESCRIPTION, UiMessagePart } from "../wire/ui-stream/parts";
import { ChatRequest, chatTurnOf, conversationIdOf, optionsOf } from "../wire/ui-stream/request";
import { urlGroup } from "../wire/url-group";
import { handler as resume } from "./chat-resume";

/** useChat resends the whole chat each time; the server reads only its end, but must accept the rest. */
const CHAT_BODY_BYTES = 4 * 1024 * 1024;

const send = streamHandler(
  "chat-send",
  {
    summary:
      "useChat's endpoint (the AI SDK's DefaultChatTransport body): send the chat's last user message, or regenerate a reply, and stream the reply as the AI SDK UI message stream. The chat id names the conversation, created on first use",
    body: ChatRequest,
    errors: [404, 409, 429],
    stream: { description: UI_STREAM_DESCRIPTION, schema: UiMessagePart },
    maxBodyBytes: CHAT_BODY_BYTES,
  },
  async ({ deps, userId, body, context }) => {
    const turn = chatTurnOf(body);
    // A model named in the body is checked before a conversation is created for it.
    const allowed = deps.config.ALLOWED_MODELS;
    if (body.model !== undefined && !allowed.includes(body.model))
      throw new AppError("validation_error", `Request validation failed: body.model: "${body.model}" is not one of: ${allowed.join(", ")}`, {
        fields: [{ path: "body.model", message: `must be one of: ${allowed.join(", ")}` }],
      });
    const conversationId = conversationIdOf(userId, body.id);
    const store = deps.store.forUser(userId);
    const opened = await store.openConversation(conversationId, { model: body.model ?? deps.config.DEFAULT_MODEL });
    if (!opened) throw notFound("Conversation");
    // Where this process also answers sends, a new conversation's first one needs no read.
    if (opened.created) keptTurns.forUser(userId).keep({ conversation: opened.conversation, history: [] }, deps.config.HISTORY_LIMIT);
    const options = optionsOf(body);
    const base = { conversationId, receivedAt: context.receivedAt, remainingMs: context.getRemainingTimeInMillis?.() };
    try {
      const request: ReplyRequest =
        turn.kind === "send"
          ? { ...base, kind: "send", idempotencyKey: null, body: { ...options, content: turn.content, ...(turn.parentId !== undefined && { parent_id: turn.parentId }) } }
          : turn.kind === "results"
            ? { ...base, kind: "send", idempotencyKey: null, body: { ...options, content: turn.content } }
            : { ...base, kind: "regenerate", body: options, regenerateOf: turn.of ?? (await lastReply(store, conversationId)) };
      // Tool results continue the client's assistant message: the reply is its next step.
      return uiStreamBody(await startReply(replyDeps(deps, userId, context.requestId, conversationId), request), { step: turn.kind === "results" });
    } catch (e) {
      // Refused before anything of the turn was stored: a conversation made for it goes too.
      if (opened.created) await store.deleteConversation(conversationId).catch(() => false);
      throw e;
    }
  },
);

// useChat's resume asks `{api}/{id}/stream`: the send's URL serves it too.
export const handler = urlGroup(send, [resume]);

/** The conversation's last reply, which a regenerate without a message id answers again. */
async function lastReply(store: UserStore, conversationId: string): Promise<string> {
  const leaf = (await store.prepareTurn(conversationId, { historyLimit: 1, idempotencyKey: null }))?.history.at(-1);
  if (leaf?.role !== "assistant") throw notFound("Message");
  return leaf.id;
}
