import { Readable } from "node:stream";
import { AppError, IdParams, StreamHeaders, StreamRequest, startReply, type ReplyFailure } from "@conversation-api/core";
import { streamHandler } from "../http";
import { loadTokenCounter } from "../tokenizer";

export const handler = streamHandler(
  "messages-stream",
  {
    summary: "Send a message and stream the reply as Server-Sent Events",
    params: IdParams,
    body: StreamRequest,
    headers: StreamHeaders,
    errors: [409, 429],
  },
  async ({ deps, userId, params, body, headers, context }) => {
    const key = headers["idempotency-key"] ?? null;
    const reply = await startReply(
      {
        store: deps.store.forUser(userId),
        provider: deps.provider,
        settings: deps.config,
        tokenizer: loadTokenCounter,
        onFailure: (f) => logFailure(context.requestId, f),
      },
      { conversationId: params.id, body, idempotencyKey: key, receivedAt: context.receivedAt },
    );

    const clientGone = new AbortController();
    let finished: Promise<unknown> = Promise.resolve();
    const out = new Readable({
      read() {},
      // The runtime destroys the body when the client disconnects. Hold the destroy until the partial
      // reply is stored: the invocation must not end (and the container freeze) before that write.
      destroy(err, callback) {
        clientGone.abort();
        finished.then(() => callback(err), callback);
      },
    });
    finished = reply.run((chunk) => out.push(chunk), clientGone.signal).finally(() => out.push(null));
    return {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
      body: out,
    };
  },
);

/**
 * A reply that failed after the stream began leaves no HTTP error status behind, so it is logged here.
 * Only our own error's type and message and the upstream status go out: never the upstream's body,
 * which could echo the API key.
 */
function logFailure(requestId: string, f: ReplyFailure) {
  const e = f.error instanceof AppError ? f.error : null;
  const cause = (e ? e.cause : f.error) as { status?: unknown; name?: unknown } | undefined;
  console.error(
    JSON.stringify({
      level: "error",
      request_id: requestId,
      event: "reply_failed",
      conversation_id: f.conversationId,
      reply_id: f.replyId,
      partial: f.partial,
      error: e ? { type: e.type, message: e.message } : { name: String((f.error as Error)?.name ?? typeof f.error) },
      cause: cause && { name: typeof cause.name === "string" ? cause.name : undefined, status: typeof cause.status === "number" ? cause.status : undefined },
    }),
  );
}
